"""Token pixels straight from the uint8 image, compiled with numba: CLIP-normalised 16-px blocks, and 32-px cells
reduced to 16 px by the release's 4-tap bicubic filter, without building normalised cell stacks in memory.

Normalisation reads a 256 x 3 table made by `pixels.normalise` itself, so fine tokens have its exact bits; the
32 -> 16 filter is the same float64 arithmetic as `pixels.downscale_cells` (the nonzero entries of its matrix,
rows then columns), so coarse tokens agree with it to float32 rounding (equal but for rare last-bit ties).
"""

from __future__ import annotations

import numpy as np
import torch

from .jit import available as available  # re-exported: blocks_kernel.available()
from .jit import compile_kernel
from .pixels import _DOWN, normalise


def _fine(arr, ys, xs, lut, out):  # pragma: no cover - compiled
    h, w = arr.shape[0], arr.shape[1]
    for k in range(ys.size):
        y0, x0 = ys[k], xs[k]
        for c in range(3):
            for i in range(16):
                for j in range(16):
                    y, x = y0 + i, x0 + j
                    out[k, c, i, j] = lut[arr[y, x, c], c] if (y < h and x < w) else np.float32(0.0)


def _coarse(arr, ys, xs, lut, down, out):  # pragma: no cover - compiled
    h, w = arr.shape[0], arr.shape[1]
    cell = np.empty((3, 32, 32), np.float64)
    tmp = np.empty((32, 16), np.float64)  # columns x filtered rows
    acc = np.empty(16, np.float64)
    for k in range(ys.size):
        y0, x0 = ys[k], xs[k]
        if y0 + 32 <= h and x0 + 32 <= w:
            for i in range(32):
                for j in range(32):
                    for c in range(3):
                        cell[c, i, j] = lut[arr[y0 + i, x0 + j, c], c]
        else:
            for i in range(32):
                for j in range(32):
                    inside = y0 + i < h and x0 + j < w
                    for c in range(3):
                        cell[c, i, j] = lut[arr[y0 + i, x0 + j, c], c] if inside else 0.0
        for c in range(3):
            for u in range(16):
                for j in range(32):
                    tmp[j, u] = 0.0
                for i in range(max(0, 2 * u - 1), min(32, 2 * u + 3)):
                    wt = down[u, i]
                    for j in range(32):
                        tmp[j, u] += wt * cell[c, i, j]
            for v in range(16):
                for u in range(16):
                    acc[u] = 0.0
                for j in range(max(0, 2 * v - 1), min(32, 2 * v + 3)):
                    wt = down[v, j]
                    for u in range(16):
                        acc[u] += tmp[j, u] * wt
                for u in range(16):
                    out[k, c, u, v] = np.float32(acc[u])


_compiled: dict = {}
_LUT = normalise(torch.arange(256, dtype=torch.uint8)[:, None].expand(256, 3)).numpy().copy()  # (256, 3)
_DOWN64 = _DOWN.numpy().copy()


def _kernels() -> dict:
    if not _compiled:
        _compiled.update(fine=compile_kernel(_fine), coarse=compile_kernel(_coarse))
    return _compiled


def fine_blocks(arr: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> torch.Tensor:
    """(k, 3, 16, 16) CLIP-normalised 16-px blocks at top-left corners (ys, xs); pixels outside the image are 0."""
    out = np.empty((len(ys), 3, 16, 16), np.float32)
    _kernels()["fine"](np.ascontiguousarray(arr), np.asarray(ys, np.int64), np.asarray(xs, np.int64), _LUT, out)
    return torch.from_numpy(out)


def coarse_blocks(arr: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> torch.Tensor:
    """(k, 3, 16, 16) coarse tokens: the normalised 32-px cells at (ys, xs) through the 32 -> 16 bicubic filter."""
    out = np.empty((len(ys), 3, 16, 16), np.float32)
    _kernels()["coarse"](
        np.ascontiguousarray(arr), np.asarray(ys, np.int64), np.asarray(xs, np.int64), _LUT, _DOWN64, out
    )
    return torch.from_numpy(out)
