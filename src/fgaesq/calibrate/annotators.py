"""Per-annotator agreement with the consensus, and the careless-annotator flag.

Consensus is leave-one-out: for each vote of annotator u on a pair, the other annotators' vote fraction
on that same pair (ties count half). When that fraction is within `margin` of 0.5 (or nobody else judged
the pair) the vote is not scored. A scored vote agrees (1) when it picks the consensus side, disagrees (0)
when it picks the other side, and scores 0.5 when it is a tie. An annotator is flagged *careless* when at
least `min_scored` of their votes were scored and their mean agreement is below `careless_below`.
A one-sided binomial p-value (non-tie agreements vs. chance 0.5) is reported beside it.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from scipy.stats import binomtest

from fgaesq.calibrate.defaults import CARELESS_BELOW as DEFAULT_CARELESS_BELOW
from fgaesq.calibrate.defaults import MIN_SCORED as DEFAULT_MIN_SCORED
from fgaesq.calibrate.votes import Vote


@dataclass
class AnnotatorStats:
    """Agreement figures of one annotator."""

    annotator: str
    votes: int
    scored: int
    agreement: float | None  # mean agreement over scored votes
    tie_rate: float
    p_value: float | None  # P(agreements ≥ observed | random choices), non-tie scored votes
    median_seconds: float | None
    careless: bool


def annotator_agreement(
    votes: Sequence[Vote],
    *,
    margin: float = 0.1,
    careless_below: float = DEFAULT_CARELESS_BELOW,
    min_scored: int = DEFAULT_MIN_SCORED,
) -> list[AnnotatorStats]:
    """Leave-one-out agreement of every annotator with the others' majority, sorted worst first."""
    by_pair: dict[tuple[str, str, str], list[Vote]] = defaultdict(list)
    for v in votes:
        x, y = sorted((v.image_a, v.image_b))
        by_pair[(v.series, x, y)].append(v)
    scores: dict[str, list[float]] = defaultdict(list)
    hits: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # non-tie [agree, disagree]
    for (_, x, _), pv in by_pair.items():
        total = defaultdict(float)
        count = defaultdict(int)
        for v in pv:
            total[v.annotator] += v.score_for(x)
            count[v.annotator] += 1
        all_total, all_count = sum(total.values()), len(pv)
        for v in pv:
            others = all_count - count[v.annotator]
            if others == 0:
                continue
            frac = (all_total - total[v.annotator]) / others  # others' fraction for x
            if abs(frac - 0.5) < margin:
                continue
            mine = v.score_for(x)
            agree = 0.5 if v.choice == "tie" else float((mine > 0.5) == (frac > 0.5))
            scores[v.annotator].append(agree)
            if v.choice != "tie":
                hits[v.annotator][0 if agree else 1] += 1
    per: dict[str, list[Vote]] = defaultdict(list)
    for v in votes:
        per[v.annotator].append(v)
    out: list[AnnotatorStats] = []
    for name, vs in per.items():
        sc = scores.get(name, [])
        agreement = sum(sc) / len(sc) if sc else None
        a, d = hits[name]
        pval = binomtest(a, a + d, 0.5, alternative="greater").pvalue if a + d else None
        secs = [v.seconds for v in vs if v.seconds is not None]
        out.append(
            AnnotatorStats(
                annotator=name,
                votes=len(vs),
                scored=len(sc),
                agreement=agreement,
                tie_rate=sum(v.choice == "tie" for v in vs) / len(vs),
                p_value=None if pval is None else float(pval),
                median_seconds=statistics.median(secs) if secs else None,
                careless=agreement is not None and len(sc) >= min_scored and agreement < careless_below,
            )
        )
    out.sort(key=lambda s: (s.agreement if s.agreement is not None else 2.0, s.annotator))
    return out
