"""LANCZOS resizing of 8-bit images with Pillow's exact pixels, in compiled kernels that use the CPU's vector units.

Pillow resizes an 8-bit image in two passes (horizontal then vertical; vertical first when the height shrinks by
more than twice what the width does), each a 1-D convolution with a Lanczos-3 kernel (support scaled by the
reduction factor) whose weights are normalised, rounded to 22-bit fixed point and applied in integer arithmetic,
the result rounded and clipped to 8 bits after each pass. This module does the same integer arithmetic in the same
order, so the output is identical bit for bit (tested against Pillow on photos and odd sizes), but on tiles of
rows at once: a 12 MP photo reduced to 2048 px takes about a third of Pillow's time. The weights of an axis are
computed once per size and process (~20 ms in Python, then cached). Without numba, for modes other than RGB and
for small images, `resize_lanczos` is Pillow's own resize.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from PIL import Image

#: Fixed-point precision of the weights, as in Pillow's 8-bit resampling.
PRECISION_BITS = 22
#: Lanczos-3 support (input pixels on each side at scale 1).
SUPPORT = 3.0
#: Below this many input and output pixels Pillow's own loop is used (compiling and tiling do not pay).
MIN_PIXELS = 250_000


def _sinc(x: float) -> float:
    if x == 0.0:
        return 1.0
    x *= math.pi
    return math.sin(x) / x


def _lanczos(x: float) -> float:
    return _sinc(x) * _sinc(x / 3.0) if -3.0 <= x < 3.0 else 0.0


@lru_cache(maxsize=64)
def coefficients(
    in_size: int, out_size: int, in0: float = 0.0, in1: float | None = None
) -> tuple[np.ndarray, np.ndarray, int]:
    """(bounds (out_size, 2): first input index and tap count; weights (out_size, ksize) int32; ksize) of one axis
    mapping input coordinates [in0, in1) (default the whole axis; single precision, as Pillow takes a box) to
    out_size pixels."""
    lo, hi = np.float32(in0), np.float32(in_size if in1 is None else in1)
    scale = float(hi - lo) / out_size
    filterscale = max(scale, 1.0)
    support = SUPPORT * filterscale
    inv = 1.0 / filterscale
    ksize = int(math.ceil(support)) * 2 + 1
    bounds = np.zeros((out_size, 2), np.int64)
    weights = np.zeros((out_size, ksize), np.int32)
    unit = float(1 << PRECISION_BITS)
    for xx in range(out_size):
        center = float(lo) + (xx + 0.5) * scale
        xmin = max(int(center - support + 0.5), 0)
        xmax = min(int(center + support + 0.5), in_size) - xmin
        w = [_lanczos((x + xmin - center + 0.5) * inv) for x in range(xmax)]
        total = sum(w)  # left to right, as a running double sum
        if total != 0.0:
            w = [v / total for v in w]
        weights[xx, :xmax] = [int(v * unit - 0.5) if v < 0 else int(v * unit + 0.5) for v in w]
        bounds[xx] = (xmin, xmax)
    return bounds, weights, ksize


#: Channels of the images the compiled kernels take (RGB; compile-time constants, so the loops are unrolled).
_C = 3
#: int32 lanes of one tile column: 16 rows x 3 channels.
_LANES = 16 * _C


def _horizontal(src, out, y0, bounds, weights):  # pragma: no cover - compiled
    """Rows y0.. of src (H, W, 3) uint8 resampled along x into out (Ho, Wo, 3), 16 rows at a time.

    Each tile of rows is transposed to (W, 48) so that one output column of all its rows is a vector sum of the
    taps' input columns; the clipped results go through an output tile back into rows.
    """
    ho, wo = out.shape[0], out.shape[1]
    w_in = src.shape[1]
    tile = np.zeros((w_in, _LANES), np.int32)
    otile = np.empty((wo, _LANES), np.uint8)
    acc = np.empty(_LANES, np.int32)
    for r0 in range(0, ho, 16):
        n = min(16, ho - r0)
        for x in range(w_in):
            for r in range(n):
                for ch in range(_C):
                    tile[x, r * _C + ch] = src[y0 + r0 + r, x, ch]
        for xx in range(wo):
            xmin = bounds[xx, 0]
            for j in range(_LANES):
                acc[j] = 1 << 21
            for k in range(bounds[xx, 1]):
                wk = weights[xx, k]
                for j in range(_LANES):
                    acc[j] += wk * tile[xmin + k, j]
            for j in range(_LANES):
                v = acc[j] >> 22
                otile[xx, j] = 0 if v < 0 else (255 if v > 255 else v)
        for r in range(n):
            for xx in range(wo):
                for ch in range(_C):
                    out[r0 + r, xx, ch] = otile[xx, r * _C + ch]
    return out


def _vertical(src, out, bounds, weights):  # pragma: no cover - compiled
    """src (Hs, W*C) uint8 resampled along y into out (Ho, W*C): one vector sum over whole rows per tap."""
    ho, n = out.shape
    acc = np.empty(n, np.int32)
    half = np.int32(1 << 21)
    for yy in range(ho):
        ymin = bounds[yy, 0]
        for j in range(n):
            acc[j] = half
        for k in range(bounds[yy, 1]):
            wk = weights[yy, k]
            for j in range(n):
                acc[j] += wk * np.int32(src[ymin + k, j])
        for j in range(n):
            v = acc[j] >> 22
            out[yy, j] = 0 if v < 0 else (255 if v > 255 else v)
    return out


_kernels: dict = {}


def _compiled():
    if not _kernels:
        from fgaesq._jit import available, compile_kernel

        if not available():
            _kernels["none"] = None
            return None
        _kernels.update(h=compile_kernel(_horizontal), v=compile_kernel(_vertical))
    return None if "none" in _kernels else _kernels


def _vertical_pass(kernels, arr: np.ndarray, h_src: int, th: int, y0: int, span=(0.0, None)) -> np.ndarray:
    """Rows y0.. of a source h_src rows high, as (rows, W, C) uint8 -> (th, W, C) resampled along y (its rows
    ``span`` = (first, end) coordinates, default all)."""
    bv, kv, _ = coefficients(h_src, th, *span)
    if y0:
        bv = bv.copy()
        bv[:, 0] -= y0
    wc = arr.shape[1] * arr.shape[2]
    flat = np.ascontiguousarray(arr).reshape(arr.shape[0], wc)
    return kernels["v"](flat, np.empty((th, wc), np.uint8), bv, kv).reshape(th, arr.shape[1], arr.shape[2])


#: Input rows read at a time for the horizontal pass (a multiple of the 16-row tiles): strips of a few MB stay
#: in reused heap memory, where one array of a whole 12 MP photo (36 MB) would be mapped afresh for every photo.
STRIP_ROWS = 256


def _resize(rows, w: int, h: int, size: tuple[int, int], kernels, box=(0.0, 0.0, None, None)) -> np.ndarray:
    """The two passes on an image whose input rows [ys, ye) are ``rows(ys, ye)`` as (ye - ys, w, 3) uint8; ``box``
    (x0, y0, x1, y1) is the region resampled, as in Pillow (None: the image's width or height)."""
    tw, th = size
    xspan, yspan = (box[0], box[2]), (box[1], box[3])
    need_h = tw != w or box[0] != 0 or (box[2] is not None and box[2] != tw)
    need_v = th != h or box[1] != 0 or (box[3] is not None and box[3] != th)
    # Pillow's pass order: vertical first when the height shrinks by more than twice what the width does
    if h - th > 0 and h - th > 2 * (w - tw):
        arr = np.ascontiguousarray(rows(0, h))
        arr = _vertical_pass(kernels, arr, h, th, 0, yspan) if need_v else arr
        if need_h:
            arr = kernels["h"](arr, np.empty((th, tw, 3), np.uint8), 0, *coefficients(w, tw, *xspan)[:2])
        return arr
    y0, y1 = 0, h
    if need_v:
        bv = coefficients(h, th, *yspan)[0]
        y0, y1 = int(bv[0, 0]), int(bv[-1, 0] + bv[-1, 1])  # the rows the vertical pass reads
    if need_h:
        bh, kh, _ = coefficients(w, tw, *xspan)
        arr = np.empty((y1 - y0, tw, 3), np.uint8)
        for ys in range(y0, y1, STRIP_ROWS):
            ye = min(ys + STRIP_ROWS, y1)
            kernels["h"](np.ascontiguousarray(rows(ys, ye)), arr[ys - y0 : ye - y0], 0, bh, kh)
    else:
        arr = np.ascontiguousarray(rows(y0, y1))
    return _vertical_pass(kernels, arr, h, th, y0, yspan) if need_v else arr


def _kernels_for(w: int, h: int, size: tuple[int, int]):
    tw, th = size
    return _compiled() if max(w * h, tw * th) >= MIN_PIXELS and tw > 0 and th > 0 and (tw, th) != (w, h) else None


def resize_array(arr: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(H, W, 3) uint8 -> (th, tw, 3) uint8 for size (tw, th): the pixels of Pillow's LANCZOS resize of the array."""
    h, w = arr.shape[:2]
    kernels = _kernels_for(w, h, size) if arr.ndim == 3 and arr.shape[2] == 3 and arr.dtype == np.uint8 else None
    if kernels is None:
        return np.asarray(Image.fromarray(arr).resize(size, Image.Resampling.LANCZOS))
    return _resize(lambda ys, ye: arr[ys:ye], w, h, size, kernels)


def resize_lanczos(img: Image.Image, size: tuple[int, int], reducing_gap: float | None = None) -> Image.Image:
    """``img.resize(size, Image.Resampling.LANCZOS, reducing_gap=reducing_gap)`` with the same pixels; compiled for
    RGB images of 0.25 MP and more, in or out (a 12 MP photo to 2048 px: ~3x faster), Pillow itself otherwise."""
    w, h = img.size
    kernels = _kernels_for(w, h, size) if img.mode == "RGB" else None
    if kernels is None:
        return img.resize(size, Image.Resampling.LANCZOS, reducing_gap=reducing_gap)
    box: tuple = (0.0, 0.0, None, None)
    if reducing_gap is not None:  # Pillow: first a box reduction by whole factors, then LANCZOS from it
        fx = int(w / size[0] / reducing_gap) or 1
        fy = int(h / size[1] / reducing_gap) or 1
        if fx > 1 or fy > 1:
            img = img.reduce((fx, fy))  # the whole image: its safe box (support margins) is the image itself
            box = (0.0, 0.0, w / fx, h / fy)
            w, h = img.size
            kernels = _kernels_for(w, h, size)
            if kernels is None:
                return img.resize(size, Image.Resampling.LANCZOS, box=(0, 0, box[2], box[3]))

    def rows(ys: int, ye: int) -> np.ndarray:
        return np.frombuffer(img.crop((0, ys, w, ye)).tobytes(), np.uint8).reshape(ye - ys, w, 3)

    return Image.fromarray(_resize(rows, w, h, size, kernels, box), "RGB")
