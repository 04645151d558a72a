"""The Scorer protocol: what rank, evaluate and the web apps call, whatever model is behind it."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
from PIL import Image

from fgaesq.model.registry import Preprocess

#: An image given to a scorer: a file path or a decoded PIL image.
ImageRef = str | os.PathLike | Image.Image


@runtime_checkable
class Scorer(Protocol):
    """Anything that scores images alone, in DiffToken pairs, and embeds them for similarity grouping."""

    name: str
    preprocess: Preprocess

    def score(self, images: Sequence[ImageRef]) -> np.ndarray:
        """Single-mode scores in [1, 10], shape (n,)."""
        ...

    def score_pairs(self, pairs: Sequence[tuple[ImageRef, ImageRef, str]]) -> np.ndarray:
        """Scores of both images of each (a, b, pair_id), each scored against the other, shape (n, 2)."""
        ...

    def score_series(self, series: Sequence[tuple[Sequence[ImageRef], str]]) -> list[np.ndarray]:
        """Series mode: each image scored once against its whole series (refs, series_id); (n_i,) per series."""
        ...

    def embed(self, images: Sequence[ImageRef]) -> np.ndarray:
        """Feature vectors for similarity, shape (n, E)."""
        ...
