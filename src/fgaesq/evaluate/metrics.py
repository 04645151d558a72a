"""The paper's fine-grained and coarse metrics, as defined in docs/evaluation.md.

Conventions (see docs/evaluation.md):
- a pair is ``(s_a, s_b, p)`` with ``p = P(a ≻ b)``; pairs with ``p == 0.5`` are excluded everywhere;
- a predicted tie counts as wrong (Acc, F1, s-Acc);
- ground-truth order inside a series = net preference g (pairs missing count as p = 0.5).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from fgaesq.data.records import net_preference

F1_SWAP_SEED = 0


@dataclass(frozen=True)
class PairScore:
    """One annotated pair with the model's two scores: ``p`` = ground-truth P(a ≻ b)."""

    s_a: float
    s_b: float
    p: float


def _kept(pairs: Iterable[PairScore]) -> list[PairScore]:
    return [q for q in pairs if q.p != 0.5]


def pair_accuracy(pairs: Sequence[PairScore]) -> float:
    """Acc = share of annotated pairs (p != 0.5) whose predicted order matches; ties are wrong."""
    kept = _kept(pairs)
    if not kept:
        return float("nan")
    hits = sum(1 for q in kept if (q.s_a - q.s_b) * (q.p - 0.5) > 0)
    return hits / len(kept)


def _f1_class(y: np.ndarray, yhat: np.ndarray, c: int) -> float:
    tp = int(np.sum((yhat == c) & (y == c)))
    fp = int(np.sum((yhat == c) & (y != c)))
    fn = int(np.sum((yhat != c) & (y == c)))
    den = 2 * tp + fp + fn
    return 2 * tp / den if den else 0.0


def pair_f1(pairs: Sequence[PairScore], seed: int = F1_SWAP_SEED) -> float:
    """Macro F1 over the two order classes, each pair once in the given order.

    Class y = 1 if p > 0.5 ("first better"); prediction 1 if s_a > s_b, 0 if s_a < s_b, 1 − y on a tie.
    When every pair lists the preferred image first, each pair is swapped with probability 0.5 drawn from
    ``numpy.random.default_rng(seed)`` (one draw per kept pair, in order) so both classes occur.
    """
    kept = _kept(pairs)
    if not kept:
        return float("nan")
    s_a = np.array([q.s_a for q in kept], dtype=np.float64)
    s_b = np.array([q.s_b for q in kept], dtype=np.float64)
    p = np.array([q.p for q in kept], dtype=np.float64)
    if np.all(p > 0.5):
        swap = np.random.default_rng(seed).random(len(kept)) < 0.5
        s_a, s_b = np.where(swap, s_b, s_a), np.where(swap, s_a, s_b)
        p = np.where(swap, 1.0 - p, p)
    y = (p > 0.5).astype(int)
    yhat = np.where(s_a > s_b, 1, np.where(s_a < s_b, 0, 1 - y))
    return 0.5 * (_f1_class(y, yhat, 1) + _f1_class(y, yhat, 0))


def top1_correct(scores: Sequence[float], g: Sequence[float]) -> bool:
    """s-Acc term: the single highest predicted score is among the ground-truth best; a tie for best is wrong."""
    s = np.asarray(scores, dtype=np.float64)
    gt = np.asarray(g, dtype=np.float64)
    best = np.flatnonzero(s == s.max())
    if len(best) != 1:
        return False
    return bool(gt[best[0]] == gt.max())


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rho with average ranks for ties; 0 when either vector is constant."""
    a = np.asarray(x, dtype=np.float64)
    b = np.asarray(y, dtype=np.float64)
    if len(a) != len(b):
        raise ValueError("spearman: vectors differ in length")
    if len(a) < 2 or np.all(a == a[0]) or np.all(b == b[0]):
        return 0.0
    from scipy.stats import rankdata  # imported on use: `fgaesq --help` stays light

    return pearson(rankdata(a), rankdata(b))


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    """Plain Pearson correlation (no logistic fitting); 0 when either vector is constant."""
    a = np.asarray(x, dtype=np.float64)
    b = np.asarray(y, dtype=np.float64)
    a = a - a.mean()
    b = b - b.mean()
    den = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / den) if den > 0 else 0.0


@dataclass(frozen=True)
class SeriesScores:
    """One evaluated series: image ids, predicted image scores, annotated pairs with pair-specific scores."""

    series: str
    category: str
    images: tuple[str, ...]
    scores: tuple[float, ...]
    pairs: tuple[tuple[str, str, float], ...]
    pair_scores: tuple[PairScore, ...]


def category_metrics(series: Sequence[SeriesScores]) -> dict[str, float]:
    """Acc, F1 (over all pairs of the category, in file order), s-Acc (n >= 2) and s-SRCC (n >= 3)."""
    all_pairs = [q for s in series for q in s.pair_scores]
    top1: list[bool] = []
    rhos: list[float] = []
    for s in series:
        if len(s.images) < 2:
            continue
        g = net_preference(s.images, [(a, b, p) for a, b, p in s.pairs if p != 0.5])
        top1.append(top1_correct(s.scores, g))
        if len(s.images) >= 3:
            rhos.append(spearman(s.scores, g))
    return {
        "acc": pair_accuracy(all_pairs),
        "f1": pair_f1(all_pairs),
        "s_acc": float(np.mean(top1)) if top1 else float("nan"),
        "s_srcc": float(np.mean(rhos)) if rhos else float("nan"),
        "n_pairs": len(_kept(all_pairs)),
        "n_series": len(top1),
        "n_series_3plus": len(rhos),
    }


def summarize(per_category: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """Pair = mean over categories of (Acc + F1)/2; Series = mean over categories of (s-Acc + s-SRCC)/2."""
    cats = list(per_category.values())
    if not cats:
        return {"pair": float("nan"), "series": float("nan")}
    pair = float(np.mean([(c["acc"] + c["f1"]) / 2 for c in cats]))
    ser = float(np.mean([(c["s_acc"] + c["s_srcc"]) / 2 for c in cats]))
    return {"pair": pair, "series": ser}


def fine_metrics(series: Sequence[SeriesScores]) -> dict:
    """Per-category metrics plus the Pair/Series summaries (categories sorted by name)."""
    by_cat: dict[str, list[SeriesScores]] = {}
    for s in series:
        by_cat.setdefault(s.category, []).append(s)
    per = {c: category_metrics(by_cat[c]) for c in sorted(by_cat)}
    return {"per_category": per, "summary": summarize(per)}


def coarse_metrics(pred: Sequence[float], mos: Sequence[float]) -> dict[str, float]:
    """SRCC and PLCC (plain Pearson) between predicted scores and mean opinion scores."""
    return {"srcc": spearman(pred, mos), "plcc": pearson(pred, mos), "n": len(pred)}
