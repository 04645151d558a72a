"""Positional-embedding interpolation by scale factor ((n + 0.1) / g), bicubic a = -0.75, as the release does."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch

CUBIC_A = -0.75
OFFSET = 0.1


def _cubic(x: float, a: float = CUBIC_A) -> float:
    x = abs(x)
    if x <= 1.0:
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    if x < 2.0:
        return ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a
    return 0.0


@lru_cache(maxsize=512)
def axis_weights(n_out: int, n_in: int, offset: float = OFFSET) -> np.ndarray:
    """(n_out, n_in) float64 bicubic weights sampling at s = (i + 0.5) * n_in / (n_out + offset) - 0.5."""
    w = np.zeros((n_out, n_in), dtype=np.float64)
    step = n_in / (n_out + offset)
    for i in range(n_out):
        s = (i + 0.5) * step - 0.5
        i0 = math.floor(s)
        t = s - i0
        for tap, wt in zip(range(i0 - 1, i0 + 3), (_cubic(t + 1), _cubic(t), _cubic(1 - t), _cubic(2 - t)), strict=True):
            w[i, min(max(tap, 0), n_in - 1)] += wt
    w.setflags(write=False)
    return w


class PositionalTable:
    """Interpolates a (1 + g*g, D) source table to any (h, w) grid; rows are computed in float64, returned float32."""

    def __init__(self, pos_source: torch.Tensor, *, full_cache_limit: int = 8192):
        src = torch.as_tensor(pos_source).detach().to("cpu", torch.float64)
        if src.ndim == 3 and src.shape[0] == 1:
            src = src[0]
        if src.ndim != 2:
            raise ValueError(f"pos_source must be (1 + g*g, D), got shape {tuple(src.shape)}")
        g = math.isqrt(src.shape[0] - 1)
        if g * g != src.shape[0] - 1:
            raise ValueError(f"pos_source has {src.shape[0]} rows; expected 1 + g*g (CLS + square grid)")
        self.g = g
        self.dim = int(src.shape[1])
        self.cls = src[0].to(torch.float32)
        self._grid = src[1:].reshape(g, g, self.dim)
        self._full_cache_limit = full_cache_limit
        self._tables: dict[tuple[int, int], torch.Tensor] = {}

    def table(self, h: int, w: int) -> torch.Tensor:
        """The interpolated (h * w, D) float32 table, row-major, without the CLS row (cached per grid)."""
        key = (h, w)
        if key in self._tables:
            return self._tables[key]
        wy = torch.tensor(axis_weights(h, self.g))
        wx = torch.tensor(axis_weights(w, self.g))
        out = torch.einsum("hi,ijd->hjd", wy, self._grid)
        out = torch.einsum("wj,hjd->hwd", wx, out).reshape(h * w, self.dim).to(torch.float32)
        if h * w <= self._full_cache_limit:
            self._tables[key] = out
        return out

    def rows(self, h: int, w: int, index: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Rows `index` (row-major over the (h, w) grid) of the interpolated table, (k, D) float32."""
        idx = torch.as_tensor(np.asarray(index), dtype=torch.long)
        if (h, w) in self._tables or h * w <= self._full_cache_limit:
            return self.table(h, w)[idx]
        wy = torch.tensor(axis_weights(h, self.g))[idx // w]
        wx = torch.tensor(axis_weights(w, self.g))[idx % w]
        return torch.einsum("ki,kj,ijd->kd", wy, wx, self._grid).to(torch.float32)
