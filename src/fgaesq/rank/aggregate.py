"""From pair scores to image scores and a ranking, as the authors' series mode does.

raw_i = mean of image i's pair scores. For series of n >= 4 images, with mu = mean of every pair score of the
series, the final score is 0.9 raw + 0.1 mu (0.7/0.3 for images with 2 scores, 0.3/0.7 with 1): a monotone map
that keeps the ranking of the raw means. Series of 2 or 3 images use the raw mean.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ImageScore:
    """One image's aggregated result within its series."""

    key: Hashable
    raw: float  # mean of the image's pair scores
    score: float  # after the authors' confidence adjustment (equal to raw for n < 4)
    n_pairs: int


def _weight(n_scores: int) -> float:
    """Weight of an image's own mean against the series mean, by how many pair scores it has."""
    if n_scores == 1:
        return 0.3
    if n_scores == 2:
        return 0.7
    return 0.9


def aggregate_series(pair_scores: Mapping[Hashable, Sequence[float]]) -> list[ImageScore]:
    """Aggregate each image's pair scores; returns the images best first (ties broken by input order)."""
    keys = list(pair_scores)
    if any(len(pair_scores[k]) == 0 for k in keys):
        raise ValueError("every image needs at least one pair score")
    raws = {k: sum(map(float, pair_scores[k])) / len(pair_scores[k]) for k in keys}
    adjust = len(keys) >= 4
    if adjust:
        every = [float(s) for k in keys for s in pair_scores[k]]
        mu = sum(every) / len(every)
    results = []
    for k in keys:
        n = len(pair_scores[k])
        final = _weight(n) * raws[k] + (1 - _weight(n)) * mu if adjust else raws[k]
        results.append(ImageScore(k, raws[k], final, n))
    order = sorted(range(len(keys)), key=lambda i: (-results[i].score, i))
    return [results[i] for i in order]
