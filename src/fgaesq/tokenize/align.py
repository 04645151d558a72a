"""Pair mode geometry: alignment of the two images on one side, then upscaling of small images (PIL LANCZOS)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from PIL import Image

MIN_SHORT_SIDE = 384
UPSCALE_TARGET_FACTOR = 1.2  # target patch count = 1.2 * seq_len
COMMON_SCALE_TOLERANCE = 0.01


@dataclass
class PairGeometry:
    """Sizes (w, h) through the pair-mode resizing steps."""

    alignment: str
    input_wh: tuple[tuple[int, int], tuple[int, int]]
    aligned_wh: tuple[tuple[int, int], tuple[int, int]]
    upscaled_wh: tuple[tuple[int, int], tuple[int, int]]
    final_wh: tuple[tuple[int, int], tuple[int, int]]
    common_scale_branch: bool


def n16(w: int, h: int) -> int:
    """Number of 16-px patches of a w x h image, partial patches counted."""
    return math.ceil(h / 16) * math.ceil(w / 16)


def _resize(img: Image.Image, wh: tuple[int, int]) -> Image.Image:
    return img if img.size == wh else img.resize(wh, Image.Resampling.LANCZOS)


def align(img1: Image.Image, img2: Image.Image, alignment: str) -> tuple[Image.Image, Image.Image]:
    """Resize the image(s) whose width ('width') or height ('height') is below the larger one, keeping aspect."""
    if alignment not in ("width", "height"):
        raise ValueError(f"alignment must be 'width' or 'height', got {alignment!r}")
    out = []
    if alignment == "width":
        t = max(img1.width, img2.width)
        for im in (img1, img2):
            out.append(im if im.width == t else _resize(im, (t, im.height * t // im.width)))
    else:
        t = max(img1.height, img2.height)
        for im in (img1, img2):
            out.append(im if im.height == t else _resize(im, (im.width * t // im.height, t)))
    return out[0], out[1]


def upscale_size(w: int, h: int, seq_len: int = 512) -> tuple[int, int]:
    """Target size for an image with n16 <= seq_len: sqrt(1.2 * seq_len / n16), at least 384 px on the short side."""
    n = n16(w, h)
    if n > seq_len:
        return w, h
    s = math.sqrt((seq_len * UPSCALE_TARGET_FACTOR) / n)
    short = min(w, h)
    if short < MIN_SHORT_SIDE:
        s = max(s, MIN_SHORT_SIDE / short)
    return int(w * s), int(h * s)


def upscale_pair(
    a1: Image.Image, a2: Image.Image, seq_len: int = 512
) -> tuple[Image.Image, Image.Image, tuple[tuple[int, int], tuple[int, int]], bool]:
    """Upscale small aligned images; if their factors differ by > 0.01 both are resized by the larger factor."""
    ups, scales = [], []
    for im in (a1, a2):
        w, h = im.size
        wh = upscale_size(w, h, seq_len)
        ups.append(wh)
        scales.append(1.0 if wh == (w, h) else max(wh[0] / w, wh[1] / h))
    if abs(scales[0] - scales[1]) > COMMON_SCALE_TOLERANCE:
        f = max(scales)
        finals = [(int(im.width * f), int(im.height * f)) for im in (a1, a2)]
        return _resize(a1, finals[0]), _resize(a2, finals[1]), (ups[0], ups[1]), True
    return _resize(a1, ups[0]), _resize(a2, ups[1]), (ups[0], ups[1]), False


def pair_geometry(
    img1: Image.Image, img2: Image.Image, alignment: str, seq_len: int = 512
) -> tuple[Image.Image, Image.Image, PairGeometry]:
    """Alignment then upscaling; returns the two final images and the sizes at each step."""
    a1, a2 = align(img1, img2, alignment)
    f1, f2, ups, common = upscale_pair(a1, a2, seq_len)
    geo = PairGeometry(
        alignment=alignment,
        input_wh=(img1.size, img2.size),
        aligned_wh=(a1.size, a2.size),
        upscaled_wh=ups,
        final_wh=(f1.size, f2.size),
        common_scale_branch=common,
    )
    return f1, f2, geo
