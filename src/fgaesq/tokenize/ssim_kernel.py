"""Per-cell SSIM straight from two uint8 images, compiled with numba: one pass per cell, no cell stacks in memory.

The arithmetic is the one of `ssim.cell_ssim` (and scikit-image): pixels u / 255 in float32, the 7x7 uniform
window as a vertical then a horizontal 7-sum in float64 (exact: seven float32 values in [0, 1] always fit a
float64 mantissa, so running sums give the same bits as any summation order), each divided by 7 and rounded to
float32, the float32 SSIM formula, float64 means. The division by 7 is a multiplication by float64(1/7); after
rounding to float32 it gives the same bits except where s/7 falls exactly on a float32 rounding midpoint, where
the result can be one float32 ulp off (never seen on the golden pairs or the test photos).
"""

from __future__ import annotations

import numpy as np

from .jit import available as available  # re-exported: ssim_kernel.available()
from .jit import compile_kernel, njit

CELL = 32
WIN = 7
INNER = CELL - WIN + 1  # 26 window positions per axis inside a cell
C1 = np.float32((0.01 * 1.0) ** 2)
C2 = np.float32((0.03 * 1.0) ** 2)
COV_NORM = np.float32(WIN * WIN / (WIN * WIN - 1.0))


def _kernel(a, b, cols_a, cols_b, n, c1, c2, cn):  # pragma: no cover - compiled
    out = np.empty(n, np.float64)
    ha, wa = a.shape[0], a.shape[1]
    hb, wb = b.shape[0], b.shape[1]
    np.float32(2.0)
    f255 = np.float32(255.0)
    inv7 = 1.0 / 7.0
    m = np.empty((5, 32, 32), np.float64)
    vt = np.empty((5, 32, 26), np.float64)
    h = np.empty((5, 26, 26), np.float32)
    s = np.empty(32, np.float64)
    for k in range(n):
        ya, xa = (k // cols_a) * 32, (k % cols_a) * 32
        yb, xb = (k // cols_b) * 32, (k % cols_b) * 32
        full_a = ya + 32 <= ha and xa + 32 <= wa
        full_b = yb + 32 <= hb and xb + 32 <= wb
        total = 0.0
        for c in range(3):
            for i in range(32):
                for j in range(32):
                    if full_a or (ya + i < ha and xa + j < wa):
                        xv = np.float32(a[ya + i, xa + j, c]) / f255
                    else:
                        xv = np.float32(0.0)
                    if full_b or (yb + i < hb and xb + j < wb):
                        yv = np.float32(b[yb + i, xb + j, c]) / f255
                    else:
                        yv = np.float32(0.0)
                    m[0, i, j] = xv
                    m[1, i, j] = yv
                    m[2, i, j] = xv * xv
                    m[3, i, j] = yv * yv
                    m[4, i, j] = xv * yv
            for p in range(5):
                for j in range(32):
                    s[j] = m[p, 0, j] + m[p, 1, j] + m[p, 2, j] + m[p, 3, j] + m[p, 4, j] + m[p, 5, j] + m[p, 6, j]
                    vt[p, j, 0] = np.float32(s[j] * inv7)
                for r in range(1, 26):
                    for j in range(32):
                        s[j] += m[p, r + 6, j] - m[p, r - 1, j]
                        vt[p, j, r] = np.float32(s[j] * inv7)
                for r in range(26):
                    s[r] = vt[p, 0, r] + vt[p, 1, r] + vt[p, 2, r] + vt[p, 3, r] + vt[p, 4, r] + vt[p, 5, r] + vt[p, 6, r]
                    h[p, 0, r] = np.float32(s[r] * inv7)
                for q in range(1, 26):
                    for r in range(26):
                        s[r] += vt[p, q + 6, r] - vt[p, q - 1, r]
                        h[p, q, r] = np.float32(s[r] * inv7)
            acc = 0.0
            for q in range(26):
                for r in range(26):
                    ux = h[0, q, r]
                    uy = h[1, q, r]
                    vx = cn * (h[2, q, r] - ux * ux)
                    vy = cn * (h[3, q, r] - uy * uy)
                    vxy = cn * (h[4, q, r] - ux * uy)
                    acc += np.float64(_window_ssim(ux, uy, vx, vy, vxy, c1, c2))
            total += acc / 676.0
        out[k] = total / 3.0
    return out


def _window_ssim(ux, uy, vx, vy, vxy, c1, c2):  # pragma: no cover - compiled
    """The SSIM of one window from its float32 moments (the float32 formula of the reference)."""
    two = np.float32(2.0)
    return ((two * ux * uy + c1) * (two * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))


def _add_row(acc, srow, cols):  # pragma: no cover - compiled
    """Add one row of window SSIMs to each cell's per-channel sums (26 inner windows per cell and channel)."""
    for cell in range(cols):
        base = cell * 96
        for q in range(26):
            for c in range(3):
                acc[cell * 3 + c] += srow[base + q * 3 + c]


def _store_cells(out, acc, big_r, cols):  # pragma: no cover - compiled
    """Each cell's mean SSIM: the mean over its 676 windows, averaged over the three channels."""
    for cell in range(cols):
        out[big_r * cols + cell] = (acc[cell * 3] / 676.0 + acc[cell * 3 + 1] / 676.0 + acc[cell * 3 + 2] / 676.0) / 3.0


if njit is not None:  # the kernels call these compiled helpers (inlined)
    _window_ssim = njit(inline="always", error_model="numpy")(_window_ssim)
    _add_row = njit(inline="always", error_model="numpy", boundscheck=False)(_add_row)
    _store_cells = njit(inline="always", error_model="numpy", boundscheck=False)(_store_cells)


def _strip_kernel(a, b, rows, cols, c1, c2, cn):  # pragma: no cover - compiled
    """Cells side by side (same column count): a and b are (>= 32 rows, >= 96 cols) uint8 rows of RGB pixels.

    Vertical 7-sums as running float64 sums updated by exact float64 differences of the entering and leaving
    float32 values (one pass per row), horizontal 7-sums from sums of pairs: every partial sum is exact, so the
    bits are those of any summation order.
    """
    w3 = cols * 96
    out = np.empty(rows * cols, np.float64)
    f255 = np.float32(255.0)
    np.float32(2.0)
    inv7 = 1.0 / 7.0
    s = np.zeros((5, w3), np.float64)
    v = np.zeros((5, w3 + 24), np.float64)
    p2 = np.zeros((5, w3 + 24), np.float64)
    acc = np.empty(cols * 3, np.float64)
    srow = np.empty(w3, np.float32)
    xf = np.empty((32, w3), np.float32)
    yf = np.empty((32, w3), np.float32)
    for big_r in range(rows):
        y0 = big_r * 32
        for x in range(cols * 3):
            acc[x] = 0.0
        for i in range(32):
            for x in range(w3):
                xf[i, x] = np.float32(a[y0 + i, x]) / f255
                yf[i, x] = np.float32(b[y0 + i, x]) / f255
        for x in range(w3):
            s0 = 0.0
            s1 = 0.0
            s2 = 0.0
            s3 = 0.0
            s4 = 0.0
            for i in range(7):
                xv = xf[i, x]
                yv = yf[i, x]
                s0 += xv
                s1 += yv
                s2 += xv * xv
                s3 += yv * yv
                s4 += xv * yv
            s[0, x] = s0
            s[1, x] = s1
            s[2, x] = s2
            s[3, x] = s3
            s[4, x] = s4
        for r in range(26):
            if r > 0:
                i = r + 6
                for x in range(w3):
                    xv = xf[i, x]
                    yv = yf[i, x]
                    xo = xf[i - 7, x]
                    yo = yf[i - 7, x]
                    s[0, x] += np.float64(xv) - np.float64(xo)
                    s[1, x] += np.float64(yv) - np.float64(yo)
                    s[2, x] += np.float64(xv * xv) - np.float64(xo * xo)
                    s[3, x] += np.float64(yv * yv) - np.float64(yo * yo)
                    s[4, x] += np.float64(xv * yv) - np.float64(xo * yo)
            for p in range(5):
                for x in range(w3):
                    v[p, x] = np.float32(s[p, x] * inv7)
                for x in range(w3 + 3):
                    p2[p, x] = v[p, x] + v[p, x + 3]
            for x in range(w3):
                ux = np.float32((p2[0, x] + p2[0, x + 6] + p2[0, x + 12] + v[0, x + 18]) * inv7)
                uy = np.float32((p2[1, x] + p2[1, x + 6] + p2[1, x + 12] + v[1, x + 18]) * inv7)
                uxx = np.float32((p2[2, x] + p2[2, x + 6] + p2[2, x + 12] + v[2, x + 18]) * inv7)
                uyy = np.float32((p2[3, x] + p2[3, x + 6] + p2[3, x + 12] + v[3, x + 18]) * inv7)
                uxy = np.float32((p2[4, x] + p2[4, x + 6] + p2[4, x + 12] + v[4, x + 18]) * inv7)
                vx = cn * (uxx - ux * ux)
                vy = cn * (uyy - uy * uy)
                vxy = cn * (uxy - ux * uy)
                srow[x] = _window_ssim(ux, uy, vx, vy, vxy, c1, c2)
            _add_row(acc, srow, cols)
        _store_cells(out, acc, big_r, cols)
    return out


def _strip_fast(a, b, rows, cols, c1, c2, cn):  # pragma: no cover - compiled
    """The fast path (compat off): window sums of the integer pixels in int32 (exact), moments from them in float32.

    Means and (co)variances come from exact integer sums (49 * sum(u*v) - sum(u) * sum(v) has no cancellation),
    so each window's SSIM is at least as accurate as the float32 reference's; it differs from it by float32
    rounding only (up to ~1.5e-5 per cell on real photos).
    """
    w3 = cols * 96
    out = np.empty(rows * cols, np.float64)
    k1 = np.float32(1.0 / (49.0 * 255.0))
    k2 = np.float32(cn / (49.0 * 49.0 * 255.0 * 255.0))
    np.float32(2.0)
    sv = np.zeros((5, w3 + 8), np.int32)
    p2 = np.zeros((5, w3 + 8), np.int32)
    acc = np.empty(cols * 3, np.float64)
    srow = np.empty(w3, np.float32)
    for big_r in range(rows):
        y0 = big_r * 32
        for x in range(cols * 3):
            acc[x] = 0.0
        for p in range(5):
            for x in range(w3):
                sv[p, x] = 0
        for i in range(7):
            for x in range(w3):
                xv = np.int32(a[y0 + i, x])
                yv = np.int32(b[y0 + i, x])
                sv[0, x] += xv
                sv[1, x] += yv
                sv[2, x] += xv * xv
                sv[3, x] += yv * yv
                sv[4, x] += xv * yv
        for r in range(26):
            if r > 0:
                i = y0 + r + 6
                for x in range(w3):
                    xv = np.int32(a[i, x])
                    yv = np.int32(b[i, x])
                    xo = np.int32(a[i - 7, x])
                    yo = np.int32(b[i - 7, x])
                    sv[0, x] += xv - xo
                    sv[1, x] += yv - yo
                    sv[2, x] += xv * xv - xo * xo
                    sv[3, x] += yv * yv - yo * yo
                    sv[4, x] += xv * yv - xo * yo
            for p in range(5):
                for x in range(w3 - 3):
                    p2[p, x] = sv[p, x] + sv[p, x + 3]
            for x in range(w3 - 18):
                su = p2[0, x] + p2[0, x + 6] + p2[0, x + 12] + sv[0, x + 18]
                sy = p2[1, x] + p2[1, x + 6] + p2[1, x + 12] + sv[1, x + 18]
                suu = p2[2, x] + p2[2, x + 6] + p2[2, x + 12] + sv[2, x + 18]
                syy = p2[3, x] + p2[3, x + 6] + p2[3, x + 12] + sv[3, x + 18]
                suy = p2[4, x] + p2[4, x + 6] + p2[4, x + 12] + sv[4, x + 18]
                ux = np.float32(su) * k1
                uy = np.float32(sy) * k1
                vx = np.float32(49 * suu - su * su) * k2
                vy = np.float32(49 * syy - sy * sy) * k2
                vxy = np.float32(49 * suy - su * sy) * k2
                srow[x] = _window_ssim(ux, uy, vx, vy, vxy, c1, c2)
            _add_row(acc, srow, cols)
        _store_cells(out, acc, big_r, cols)
    return out


_compiled: dict = {}


def image_cell_ssim(
    a: np.ndarray, b: np.ndarray, cols_a: int, cols_b: int, n: int, *, exact: bool = True
) -> np.ndarray:
    """Mean SSIM of the first n raster-order 32-px cells of two HxWx3 uint8 images, (n,) float64.

    Cell k of an image with `cols` cells per row has its top-left corner at (32 * (k // cols), 32 * (k % cols));
    pixels outside an image count as black (the zero padding of pad-or-crop). exact=True gives the bits of the
    float32 reference (`ssim.cell_ssim`, the release); exact=False takes the integer fast path where cells lie
    side by side (about 2x faster; differs by float32 rounding, up to ~1.5e-5 per cell).
    """
    if not _compiled:
        _compiled.update(cells=compile_kernel(_kernel), strip=compile_kernel(_strip_kernel), fast=compile_kernel(_strip_fast))
    if cols_a == cols_b and n % cols_a == 0:  # cells side by side: one vectorised pass per cell row
        rows = n // cols_a
        kernel = _compiled["strip" if exact else "fast"]
        return kernel(_rows_of(a, rows, cols_a), _rows_of(b, rows, cols_a), rows, cols_a, C1, C2, COV_NORM)
    a = np.ascontiguousarray(a, dtype=np.uint8)
    b = np.ascontiguousarray(b, dtype=np.uint8)
    return _compiled["cells"](a, b, int(cols_a), int(cols_b), int(n), C1, C2, COV_NORM)


def _rows_of(arr: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """The image as (H, W * 3) uint8 rows covering rows x cols cells, zero-padded where the image is smaller."""
    h, w = arr.shape[:2]
    need_h, need_w = rows * CELL, cols * CELL
    if h < need_h or w < need_w:
        padded = np.zeros((max(h, need_h), max(w, need_w), 3), dtype=np.uint8)
        padded[:h, :w] = arr
        arr = padded
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    return arr.reshape(arr.shape[0], -1)
