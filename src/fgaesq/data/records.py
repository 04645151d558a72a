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
    """One series of near-identical images: the one series type of fgaesq (training, evaluation, calibration).

    `images` are resolved paths; `names` the image names as written in the series file (relative to `root`),
    by default the file names. Pairs and ranking index into both.
    """

    series: str
    images: list[Path]
    pairs: list[PairLabel] = field(default_factory=list)
    ranking: list[int] | None = None  # ground-truth order, best first (indices into images); may cover a subset
    category: str = ""
    names: list[str] = field(default_factory=list)
    root: str | None = None  # the series file's `root`, kept for writing the record back

    def __post_init__(self) -> None:
        if not self.names:
            self.names = [Path(p).name for p in self.images]

    def labelled_pairs(self) -> list[PairLabel]:
        """The annotated pairs, or every pair of the ranking (better first, p = 1) when none are given."""
        if self.pairs or not self.ranking:
            return list(self.pairs)
        r = self.ranking
        return [PairLabel(r[i], r[j], 1.0) for i in range(len(r)) for j in range(i + 1, len(r))]

    def named_pairs(self) -> list[tuple[str, str, float]]:
        """`labelled_pairs()` as (name_a, name_b, p)."""
        return [(self.names[pr.a], self.names[pr.b], pr.p) for pr in self.labelled_pairs()]

    def levels(self) -> np.ndarray:
        """Per-image ground-truth level, higher = better; NaN for images outside the order.

        From the explicit ranking when given (level = n - position), else the net preference:
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
        """Pairs that carry a preference (p ≠ 0.5)."""
        return [pr for pr in self.pairs if pr.p != 0.5]
