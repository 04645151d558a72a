"""Per-series Bradley–Terry calibration of pairwise votes; the one BT fit of fgaesq (calibrate and annotate).

Votes of one pair are pooled into win counts; a tie counts half a win to each side. Strengths θ are
fitted with choix's I-LSR on the dense win matrix with regularisation `alpha` (choix adds `alpha` to
every transition rate of the LSR chain: on a two-image series this equals 2·alpha virtual wins for each
side, so unanimous pairs keep a finite probability and disconnected judgements still get strengths).
P(a ≻ b) = σ(θ_a − θ_b); pairs with |P − 0.5| < threshold are dropped as indistinguishable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from fgaesq.calibrate.defaults import ALPHA as DEFAULT_ALPHA
from fgaesq.calibrate.defaults import THRESHOLD as DEFAULT_THRESHOLD
from fgaesq.calibrate.votes import Vote


@dataclass
class PairResult:
    """Pooled votes and fitted probability of one judged pair, oriented so that `a` ranks above `b`."""

    a: str
    b: str
    votes: int
    wins_a: float  # ties count 0.5
    wins_b: float
    ties: int
    p: float  # fitted BT P(a ≻ b)
    kept: bool
    reason: str = ""  # why dropped ("indistinguishable", "few votes")

    @property
    def fraction(self) -> float:
        """Vote fraction for `a` (ties count half)."""
        return self.wins_a / self.votes if self.votes else 0.5


@dataclass
class SeriesResult:
    """Calibration of one series: strengths, global order, judged pairs, cycles."""

    series: str
    images: list[str]
    strengths: dict[str, float]
    ranking: list[str]
    pairs: list[PairResult]
    cycles: list[list[str]] = field(default_factory=list)
    components: int = 1  # connected components of the judged-pair graph
    votes: int = 0
    dropped: str = ""  # non-empty when the series is left out of the output

    @property
    def kept_pairs(self) -> list[PairResult]:
        """The pairs that go to the output."""
        return [p for p in self.pairs if p.kept]


def _pair_key(x: str, y: str) -> tuple[str, str]:
    return (x, y) if x <= y else (y, x)


def fit_strengths(n_items: int, wins: np.ndarray, alpha: float = DEFAULT_ALPHA) -> np.ndarray:
    """BT log-strengths from a win matrix (wins[i, j] = wins of i over j, fractional allowed), mean 0."""
    if n_items == 1:
        return np.zeros(1)
    import choix  # imported on use: it pulls in scipy.stats

    try:
        theta = choix.ilsr_pairwise_dense(wins, alpha=alpha, max_iter=1000, tol=1e-10)
    except RuntimeError:  # no convergence: a stronger prior always converges
        theta = choix.ilsr_pairwise_dense(wins, alpha=max(alpha, 1.0) * 4, max_iter=1000, tol=1e-8)
    return theta - theta.mean()


def find_cycles(images: Sequence[str], pairs: Sequence[PairResult]) -> list[list[str]]:
    """One intransitive cycle per strongly connected part of the majority-vote graph (x≻y≻…≻x)."""
    import networkx as nx

    g = nx.DiGraph()
    g.add_nodes_from(images)
    for pr in pairs:
        if pr.wins_a > pr.wins_b:
            g.add_edge(pr.a, pr.b)
        elif pr.wins_b > pr.wins_a:
            g.add_edge(pr.b, pr.a)
    cycles = []
    for comp in nx.strongly_connected_components(g):
        if len(comp) > 1:
            edges = nx.find_cycle(g.subgraph(comp))
            cycles.append([u for u, _ in edges])
    return sorted(cycles)


def calibrate_series(
    series: str,
    votes: Sequence[Vote],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    alpha: float = DEFAULT_ALPHA,
    min_votes: int = 1,
) -> SeriesResult:
    """Fit BT strengths on the votes of one series and derive order, pair probabilities and cycles."""
    images: list[str] = []
    index: dict[str, int] = {}
    for v in votes:
        for name in (v.image_a, v.image_b):
            if name not in index:
                index[name] = len(images)
                images.append(name)
    n = len(images)
    wins = np.zeros((n, n))
    pooled: dict[tuple[str, str], list[float]] = {}  # key -> [votes, wins of key[0], wins of key[1], ties]
    for v in votes:
        key = _pair_key(v.image_a, v.image_b)
        acc = pooled.setdefault(key, [0, 0.0, 0.0, 0])
        s0 = v.score_for(key[0])
        acc[0] += 1
        acc[1] += s0
        acc[2] += 1.0 - s0
        acc[3] += v.choice == "tie"
        i, j = index[key[0]], index[key[1]]
        wins[i, j] += s0
        wins[j, i] += 1.0 - s0
    theta = fit_strengths(n, wins, alpha)
    strengths = {name: float(theta[index[name]]) for name in images}
    ranking = sorted(images, key=lambda m: (-strengths[m], index[m]))
    rank_pos = {m: k for k, m in enumerate(ranking)}
    pairs: list[PairResult] = []
    for (x, y), (cnt, wx, wy, ties) in pooled.items():
        if rank_pos[y] < rank_pos[x]:
            x, y, wx, wy = y, x, wy, wx
        p = float(1.0 / (1.0 + np.exp(-(strengths[x] - strengths[y]))))
        reason = ""
        if abs(p - 0.5) < threshold:
            reason = "indistinguishable"
        elif cnt < min_votes:
            reason = "few votes"
        pairs.append(PairResult(x, y, int(cnt), wx, wy, int(ties), p, kept=not reason, reason=reason))
    pairs.sort(key=lambda pr: (rank_pos[pr.a], rank_pos[pr.b]))
    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from(images)
    graph.add_edges_from((pr.a, pr.b) for pr in pairs)
    return SeriesResult(
        series=series,
        images=images,
        strengths=strengths,
        ranking=ranking,
        pairs=pairs,
        cycles=find_cycles(images, pairs),
        components=nx.number_connected_components(graph),
        votes=len(votes),
    )
