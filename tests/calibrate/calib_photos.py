"""Helpers that turn skimage.data photos into near-duplicate series (shared by conftest and tests)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def shifted(img: np.ndarray, dx: int, dy: int, margin: int = 24) -> np.ndarray:
    """A crop that moves the frame by (dx, dy) pixels, like a hand-held burst."""
    h, w = img.shape[:2]
    return img[dy : h - margin + dy, dx : w - margin + dx]


def exposed(img: np.ndarray, factor: float) -> np.ndarray:
    """Exposure change by a gain factor."""
    return np.clip(img.astype(np.float32) * factor, 0, 255).astype(np.uint8)


def save(arr: np.ndarray, path: Path, quality: int = 92) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path, quality=quality)
