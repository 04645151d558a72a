"""In-memory records every data format is converted to: coarse (absolute) items and fine (series) items."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

NUM_BINS = 10


def net_preference(
    images: Sequence[Hashable], pairs: Iterable[tuple[Hashable, Hashable, float]]
) -> np.ndarray:
    """g_i = Σ (p − 0.5) over pairs (i, j, p) + Σ (0.5 − p) over pairs (j, i, p); unannotated pairs add 0."""
    index = {im: k for k, im in enumerate(images)}
    g = np.zeros(len(images), dtype=np.float64)
    for a, b, p in pairs:
        if a not in index or b not in index:
            raise KeyError(f"pair ({a!r}, {b!r}) names an image that is not in the series")
        g[index[a]] += p - 0.5
        g[index[b]] += 0.5 - p
    return g


@dataclass
class CoarseRecord:
    """One image with a 10-bin score distribution (bins = scores 1..10, sums to 1)."""

    image: Path
    dist: np.ndarray

    @property
    def mean(self) -> float:
        """Expected score Σ k·p_k."""
        return float(np.dot(np.arange(1, NUM_BINS + 1), self.dist))


@dataclass
class PairLabel:
    """An annotated pair of a series: indices into `SeriesRecord.images`, p = P(a ≻ b)."""

    a: int
    b: int
    p: float
    text: str | None = None


@dataclass
class SeriesRecord:
    """One series of near-identical images with its pair labels and (optional) explicit ranking."""

    series_id: str
    images: list[Path]
    pairs: list[PairLabel] = field(default_factory=list)
    ranking: list[int] | None = None  # ground-truth order, best first (indices into images); may cover a subset
    category: str = ""

    def levels(self) -> np.ndarray:
        """Per-image ground-truth level, higher = better; NaN for images outside the order.

        From the explicit ranking when given (level = n - position), else the net preference of method.md §6.5:
        g_i = Σ (p − 0.5) over pairs where i is first + Σ (0.5 − p) where i is second; pairs with p = 0.5 add 0.
        Images in no informative pair get NaN (they carry no order information).
        """
        n = len(self.images)
        if self.ranking is not None:
            lv = np.full(n, np.nan)
            for pos, i in enumerate(self.ranking):
                lv[i] = len(self.ranking) - pos
            return lv
        informative = self.informative_pairs()
        g = net_preference(range(n), [(pr.a, pr.b, pr.p) for pr in informative])
        seen = np.zeros(n, dtype=bool)
        seen[[i for pr in informative for i in (pr.a, pr.b)]] = True
        g[~seen] = np.nan
        return g

    def informative_pairs(self) -> list[PairLabel]:
        """Pairs that carry a preference (p ≠ 0.5, method.md §9.1 item 2)."""
        return [pr for pr in self.pairs if pr.p != 0.5]
