"""Images -> fgaesq-lite views: a global view and crops (quadrant centres, or where a pair differs most)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image

from fgaesq.io import ImageSource, load_image
from fgaesq.model.lite.config import LiteConfig


def open_image(ref: ImageSource, work_size: int) -> Image.Image:
    """Decode through fgaesq.io.load_image (EXIF orientation, alpha on white, 16-bit to 8), long side <= work_size."""
    return load_image(ref, work_size)


def _ensure_min(img: Image.Image, size: int) -> Image.Image:
    w, h = img.size
    if min(w, h) >= size:
        return img
    s = size / min(w, h)
    return img.resize((max(size, round(w * s)), max(size, round(h * s))), Image.Resampling.BICUBIC)


def _to_tensor(img: Image.Image) -> torch.Tensor:
    arr = torch.from_numpy(np.array(img, dtype=np.float32)).permute(2, 0, 1)
    return (arr - 127.0) / 128.0  # EfficientNet-Lite input normalisation


def single_boxes(w: int, h: int, size: int, n: int) -> list[tuple[int, int]]:
    """Top-left corners of ``n`` crops centred on quadrant centres (diagonal first, then the centre), clamped."""
    centres = [(w / 4, h / 4), (3 * w / 4, 3 * h / 4), (3 * w / 4, h / 4), (w / 4, 3 * h / 4), (w / 2, h / 2)]
    out = []
    for cx, cy in (centres * ((n // len(centres)) + 1))[:n]:
        out.append((int(min(max(cx - size / 2, 0), w - size)), int(min(max(cy - size / 2, 0), h - size))))
    return out


def pair_boxes(a: Image.Image, b: Image.Image, size: int, n: int, stride: int = 16) -> list[tuple[int, int]]:
    """The ``n`` windows where two same-size images differ most (greedy, overlap IoU <= 0.3); deterministic."""
    w, h = a.size
    ga = np.asarray(a.convert("L"), dtype=np.float64)
    gb = np.asarray(b.convert("L"), dtype=np.float64)
    diff = np.abs(ga - gb)
    if diff.sum() == 0:
        return single_boxes(w, h, size, n)
    integ = np.pad(diff.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    xs = sorted({*range(0, w - size + 1, stride), w - size})
    ys = sorted({*range(0, h - size + 1, stride), h - size})
    cand = []
    for y in ys:
        for x in xs:
            s = integ[y + size, x + size] - integ[y, x + size] - integ[y + size, x] + integ[y, x]
            cand.append((-s, y, x))
    cand.sort()
    chosen: list[tuple[int, int]] = []
    for _, y, x in cand:
        ok = True
        for cx, cy in chosen:
            iw = max(0, size - abs(cx - x))
            ih = max(0, size - abs(cy - y))
            inter = iw * ih
            if inter / (2 * size * size - inter) > 0.3:
                ok = False
                break
        if ok:
            chosen.append((x, y))
        if len(chosen) == n:
            break
    while len(chosen) < n:
        chosen.append(chosen[len(chosen) % max(1, len(chosen))])
    return chosen


def make_views(img: Image.Image, boxes: Sequence[tuple[int, int]], size: int) -> torch.Tensor:
    """(1 + len(boxes), 3, size, size): global view + crops at the working resolution."""
    views = [_to_tensor(img.resize((size, size), Image.Resampling.BICUBIC))]
    for x, y in boxes:
        views.append(_to_tensor(img.crop((x, y, x + size, y + size))))
    return torch.stack(views)


def view_image(ref: ImageSource, config: LiteConfig) -> Image.Image:
    """The image the views of ``ref`` are cut from: working size, at least one view on the short side."""
    return _ensure_min(open_image(ref, config.work_size), config.view_size)


def single_views(ref: ImageSource, config: LiteConfig) -> torch.Tensor:
    """Views of one image in single mode (no reference)."""
    img = view_image(ref, config)
    return make_views(img, single_boxes(*img.size, config.view_size, config.n_crops), config.view_size)


def pair_view_boxes(
    ia: Image.Image, ib: Image.Image, config: LiteConfig
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Top-left corners of both images' crops in pair mode: the same windows, where the two differ most."""
    ib_on_a = ib.resize(ia.size, Image.Resampling.BICUBIC) if ib.size != ia.size else ib
    boxes_a = pair_boxes(ia, ib_on_a, config.view_size, config.n_crops)
    sx, sy = ib.size[0] / ia.size[0], ib.size[1] / ia.size[1]
    s = config.view_size
    boxes_b = [
        (int(min(round(x * sx), ib.size[0] - s)), int(min(round(y * sy), ib.size[1] - s))) for x, y in boxes_a
    ]
    return boxes_a, boxes_b


def pair_views(a: ImageSource, b: ImageSource, config: LiteConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Views of both images of a pair, crops at the same windows where they differ most."""
    ia, ib = view_image(a, config), view_image(b, config)
    boxes_a, boxes_b = pair_view_boxes(ia, ib, config)
    s = config.view_size
    return make_views(ia, boxes_a, s), make_views(ib, boxes_b, s)
