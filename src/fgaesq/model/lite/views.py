"""Images -> fgaesq-lite views: a global view of the whole photo and crops of its original pixels.

The global view (whole image -> view_size², from the image reduced to ``work_size``) carries composition and
exposure. The crops (view_size² each) are cut from the original pixels when ``config.native`` (so a 12 MP
photo's pixel-level focus, noise and compression are seen), else from the reduced image (the first lite).
Where they are: in single mode the most detailed windows (highest local contrast of the reduced image,
``crop_select="detail"``) or fixed quadrant centres (``"quadrants"``); in pair mode the windows where the two
images differ most, by the tokenizer's SSIM importance (`fgaesq.tokenize.cell_importance`). Deterministic.
Boxes are (x0, y0, x1, y1) in the pixels of the decoded image (full resolution when native); with the technical
block on (``config.grid`` 8) their corners lie on the 8-px JPEG block grid, so blockiness is measured in place.
Technical block version 2 adds one last view that the backbone never sees: the noise mosaic, the 16 flattest
unclipped 56² windows of the original pixels tiled 4 x 4 (`noise_windows`), where sensor noise is measured
away from edges and texture (`fgaesq.model.lite.technical.flat_noise`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from fgaesq.io import ImageSource, load_image
from fgaesq.io.resample import resize_lanczos
from fgaesq.model.lite.config import LiteConfig
from fgaesq.model.lite.technical import NOISE_TILES

Box = tuple[int, int, int, int]
#: Cell size (px of the reduced work image) of the pair difference (SSIM importance) map.
DIFF_CELL = 8
#: Greedy window choice: chosen windows may not overlap (IoU above this), so the crops sample different places.
MAX_IOU = 0.0
#: Noise mosaic (technical block 2): NOISE_TILES x NOISE_TILES windows of view_size / NOISE_TILES px each
#: (the tiling `technical.flat_noise` reads), the flattest of a NOISE_GRID x NOISE_GRID grid of candidate
#: windows whose mean luma lies in NOISE_LUMA.
NOISE_GRID = 12
NOISE_LUMA = (16.0, 240.0)


@dataclass(frozen=True)
class ViewSet:
    """The views of one image: (config.n_views, 3, S, S) tensor (global view, crops, with technical block 2 the
    noise mosaic), the decoded image's size and the crop boxes on it."""

    views: torch.Tensor
    size: tuple[int, int]
    boxes: list[Box]


def open_image(ref: ImageSource, work_size: int | None) -> Image.Image:
    """Decode through fgaesq.io.load_image (EXIF orientation, alpha on white, 16-bit to 8), long side <= work_size."""
    return load_image(ref, work_size)


def _ensure_min(img: Image.Image, size: int) -> Image.Image:
    w, h = img.size
    if min(w, h) >= size:
        return img
    s = size / min(w, h)
    return img.resize((max(size, round(w * s)), max(size, round(h * s))), Image.Resampling.BICUBIC)


def _reduce(img: Image.Image, long_side: int) -> Image.Image:
    w, h = img.size
    if max(w, h) <= long_side:
        return img
    s = long_side / max(w, h)
    return resize_lanczos(img, (max(1, round(w * s)), max(1, round(h * s))), reducing_gap=2.0)  # Pillow's pixels


def _to_tensor(img: Image.Image) -> torch.Tensor:
    arr = torch.from_numpy(np.array(img, dtype=np.float32)).permute(2, 0, 1)
    return (arr - 127.0) / 128.0  # EfficientNet-Lite input normalisation


def _grey(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("L"), dtype=np.float32)


def _local_contrast(g: np.ndarray) -> np.ndarray:
    """|horizontal| + |vertical| neighbour difference of a grey image, per pixel."""
    contrast = np.zeros_like(g)
    contrast[:, 1:] += np.abs(np.diff(g, axis=1))
    contrast[1:, :] += np.abs(np.diff(g, axis=0))
    return contrast


def single_boxes(w: int, h: int, size: int, n: int) -> list[tuple[int, int]]:
    """Top-left corners of ``n`` crops centred on quadrant centres (diagonal first, then the centre), clamped."""
    centres = [(w / 4, h / 4), (3 * w / 4, 3 * h / 4), (3 * w / 4, h / 4), (w / 4, 3 * h / 4), (w / 2, h / 2)]
    out = []
    for cx, cy in (centres * ((n // len(centres)) + 1))[:n]:
        out.append((int(min(max(cx - size / 2, 0), w - size)), int(min(max(cy - size / 2, 0), h - size))))
    return out


def _greedy(score: np.ndarray, win: int, n: int, stride: int) -> list[tuple[int, int]] | None:
    """Top-left corners of the ``n`` windows (win²) of largest summed ``score``, overlap IoU <= MAX_IOU."""
    h, w = score.shape
    win = max(1, min(win, w, h))
    if float(score.sum()) <= 0.0:
        return None
    integ = np.pad(score.astype(np.float64).cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    xs = np.array(sorted({*range(0, w - win + 1, stride), w - win}))
    ys = np.array(sorted({*range(0, h - win + 1, stride), h - win}))
    sums = (integ[ys[:, None] + win, xs[None, :] + win] - integ[ys[:, None], xs[None, :] + win]
            - integ[ys[:, None] + win, xs[None, :]] + integ[ys[:, None], xs[None, :]])  # fmt: skip
    order = np.lexsort((np.repeat(xs[None, :], len(ys), 0).ravel(), np.repeat(ys[:, None], len(xs), 1).ravel(),
                        -sums.ravel()))  # fmt: skip
    chosen: list[tuple[int, int]] = []
    for k in order:
        y, x = int(ys[k // len(xs)]), int(xs[k % len(xs)])
        ok = True
        for cx, cy in chosen:
            inter = max(0, win - abs(cx - x)) * max(0, win - abs(cy - y))
            if inter / (2 * win * win - inter) > MAX_IOU:
                ok = False
                break
        if ok:
            chosen.append((x, y))
        if len(chosen) == n:
            break
    while len(chosen) < n:
        chosen.append(chosen[len(chosen) % max(1, len(chosen))])
    return chosen


def _snap(v: int, grid: int) -> int:
    return v // grid * grid


def _scale_corners(
    corners: Sequence[tuple[int, int]], scale: float, full: tuple[int, int], size: int, grid: int = 1
) -> list[Box]:
    w, h = full
    out = []
    for x, y in corners:
        x0 = _snap(int(min(max(round(x * scale), 0), w - size)), grid)
        y0 = _snap(int(min(max(round(y * scale), 0), h - size)), grid)
        out.append((x0, y0, x0 + size, y0 + size))
    return out


def detail_boxes(full: Image.Image, work: Image.Image, size: int, n: int, grid: int = 1) -> list[Box]:
    """The ``n`` most detailed size² windows of ``full`` (local contrast of the reduced ``work`` image), boxes in
    ``full``'s pixels with corners on multiples of ``grid``; quadrant centres for a featureless image."""
    contrast = _local_contrast(_grey(work))
    scale = full.size[0] / work.size[0]
    win = max(1, round(size / scale))
    corners = _greedy(contrast, win, n, max(1, win // 4))
    if corners is None:
        return _scale_corners(single_boxes(*full.size, size, n), 1.0, full.size, size, grid)
    return _scale_corners(corners, scale, full.size, size, grid)


def _cells(g: np.ndarray, cell: int) -> torch.Tensor:
    rows, cols = g.shape[0] // cell, g.shape[1] // cell
    t = torch.from_numpy(np.ascontiguousarray(g[: rows * cell, : cols * cell]) / 255.0)
    return t.view(rows, cell, cols, cell).permute(0, 2, 1, 3).reshape(rows * cols, 1, cell, cell)


def difference_map(a: Image.Image, b: Image.Image) -> np.ndarray:
    """Per-cell SSIM importance (1 - SSIM, `fgaesq.tokenize.cell_importance`) of two same-size (reduced) images in
    DIFF_CELL² cells: (rows, cols) array."""
    from fgaesq.tokenize import cell_importance

    ga, gb = _grey(a), _grey(b)
    rows, cols = ga.shape[0] // DIFF_CELL, ga.shape[1] // DIFF_CELL
    if rows == 0 or cols == 0:
        return np.zeros((max(rows, 1), max(cols, 1)), np.float32)
    imp = cell_importance(_cells(ga, DIFF_CELL), _cells(gb, DIFF_CELL))
    return imp.view(rows, cols).numpy().astype(np.float32)


def difference_boxes(
    a: Image.Image,
    b: Image.Image,
    size: int,
    n: int,
    reduced: tuple[Image.Image, Image.Image] | None = None,
    grid: int = 1,
) -> list[Box] | None:
    """The ``n`` size² windows of ``a`` where ``b`` (same size) differs most by SSIM importance, measured on the
    ``reduced`` pair (default: both reduced to 512 px); None if they do not differ."""
    ra, rb = reduced or (_reduce(a, 512), _reduce(b, 512))
    imp = difference_map(ra, rb)
    if float(imp.max()) < 1e-6:
        return None
    scale = a.size[0] / ra.size[0] * DIFF_CELL  # full-image pixels per cell
    win = max(1, round(size / scale))
    corners = _greedy(imp, win, n, 1)
    return None if corners is None else _scale_corners(corners, scale, a.size, size, grid)


def pair_boxes(a: Image.Image, b: Image.Image, size: int, n: int, stride: int = 16) -> list[tuple[int, int]]:
    """Top-left corners of the ``n`` windows where two same-size images differ most (SSIM importance, overlap
    IoU <= 0.3); quadrant centres when they are identical. Deterministic."""
    boxes = difference_boxes(a, b, size, n)
    if boxes is None:
        return single_boxes(*a.size, size, n)
    return [(x0, y0) for x0, y0, _, _ in boxes]


def make_views(img: Image.Image, boxes: Sequence[tuple[int, int]], size: int) -> torch.Tensor:
    """(1 + len(boxes), 3, size, size): global view + crops of ``img`` (top-left corners)."""
    views = [_to_tensor(img.resize((size, size), Image.Resampling.BICUBIC))]
    for x, y in boxes:
        views.append(_to_tensor(img.crop((x, y, x + size, y + size))))
    return torch.stack(views)


def noise_windows(full: Image.Image, work: Image.Image, win: int, n: int, grid: int = NOISE_GRID) -> list[Box]:
    """The ``n`` flattest win² windows of ``full`` (boxes in its pixels) among a grid x grid lattice of candidates:
    least local contrast of the reduced ``work`` image (which noise barely reaches), mean luma inside NOISE_LUMA
    first (clipped or crushed windows hold no noise), ties by position. Deterministic."""
    g = _grey(work)
    contrast = _local_contrast(g)
    w, h = full.size
    sx, sy = work.size[0] / w, work.size[1] / h
    xs = np.linspace(0, w - win, grid).round().astype(int)
    ys = np.linspace(0, h - win, grid).round().astype(int)
    cands = []
    for y in ys:
        for x in xs:
            a0, b0 = int(x * sx), int(y * sy)
            a1, b1 = max(a0 + 1, int(round((x + win) * sx))), max(b0 + 1, int(round((y + win) * sy)))
            mean = float(g[b0:b1, a0:a1].mean())
            bad = not NOISE_LUMA[0] <= mean <= NOISE_LUMA[1]
            cands.append((bad, float(contrast[b0:b1, a0:a1].mean()), int(y), int(x)))
    cands.sort()
    return [(x, y, x + win, y + win) for _, _, y, x in cands[:n]]


def noise_mosaic(full: Image.Image, work: Image.Image, size: int) -> torch.Tensor:
    """(3, size, size): the NOISE_TILES² flattest windows of ``full`` (`noise_windows`) tiled row by row."""
    win = size // NOISE_TILES
    tiles = [np.asarray(full.crop(b), dtype=np.uint8) for b in noise_windows(full, work, win, NOISE_TILES**2)]
    rows = [np.concatenate(tiles[r * NOISE_TILES : (r + 1) * NOISE_TILES], axis=1) for r in range(NOISE_TILES)]
    mosaic = np.zeros((size, size, 3), np.uint8)
    mosaic[: win * NOISE_TILES, : win * NOISE_TILES] = np.concatenate(rows, axis=0)
    return _to_tensor(Image.fromarray(mosaic))


def _stack(full: Image.Image, work: Image.Image, boxes: Sequence[Box], config: LiteConfig) -> torch.Tensor:
    size = config.view_size
    views = [_to_tensor(work.resize((size, size), Image.Resampling.BICUBIC))]
    views += [_to_tensor(full.crop(b)) for b in boxes]
    if config.technical >= 2:
        views.append(noise_mosaic(full, work, size))
    return torch.stack(views)


def _prepare(ref: ImageSource, config: LiteConfig) -> tuple[Image.Image, Image.Image]:
    """(crop source, reduced work image): the decoded image at full resolution when native, else both reduced."""
    img = open_image(ref, config.decode_size)
    work = _ensure_min(_reduce(img, config.work_size), config.view_size)
    full = _ensure_min(img, config.view_size) if config.native else work
    return full, work


def single_viewset(ref: ImageSource, config: LiteConfig) -> ViewSet:
    """Views of one image in single mode (no reference), with the crop boxes used."""
    full, work = _prepare(ref, config)
    s = config.view_size
    if config.crop_select == "detail":
        boxes = detail_boxes(full, work, s, config.n_crops, config.grid)
    else:
        boxes = _scale_corners(single_boxes(*full.size, s, config.n_crops), 1.0, full.size, s, config.grid)
    return ViewSet(_stack(full, work, boxes, config), full.size, boxes)


def pair_viewsets(a: ImageSource, b: ImageSource, config: LiteConfig) -> tuple[ViewSet, ViewSet]:
    """Views of both images of a pair, crops at the same windows where they differ most (detail windows of the
    first image when they do not differ)."""
    fa, wa = _prepare(a, config)
    fb, wb = _prepare(b, config)
    s = config.view_size
    wb_on_a = wb.resize(wa.size, Image.Resampling.BICUBIC) if wb.size != wa.size else wb
    boxes_a = difference_boxes(fa, fa, s, config.n_crops, reduced=(wa, wb_on_a), grid=config.grid)
    if boxes_a is None:
        boxes_a = detail_boxes(fa, wa, s, config.n_crops, config.grid)
    sx, sy = fb.size[0] / fa.size[0], fb.size[1] / fa.size[1]
    boxes_b = []
    for x0, y0, _, _ in boxes_a:
        x = _snap(int(min(round(x0 * sx), fb.size[0] - s)), config.grid)
        y = _snap(int(min(round(y0 * sy), fb.size[1] - s)), config.grid)
        boxes_b.append((x, y, x + s, y + s))
    return (ViewSet(_stack(fa, wa, boxes_a, config), fa.size, boxes_a),
            ViewSet(_stack(fb, wb, boxes_b, config), fb.size, boxes_b))  # fmt: skip


def single_views(ref: ImageSource, config: LiteConfig) -> torch.Tensor:
    """Views of one image in single mode (no reference): (config.n_views, 3, S, S)."""
    return single_viewset(ref, config).views


def pair_views(a: ImageSource, b: ImageSource, config: LiteConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Views of both images of a pair, crops at the same windows where they differ most."""
    va, vb = pair_viewsets(a, b, config)
    return va.views, vb.views


def view_image(ref: ImageSource, config: LiteConfig) -> Image.Image:
    """The image the crops of ``ref`` are cut from: full resolution when native, else the working size (at least
    one view on the short side)."""
    return _prepare(ref, config)[0]


def pair_view_boxes(
    ia: Image.Image, ib: Image.Image, config: LiteConfig
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Top-left corners of both images' crops in pair mode: the same windows, where the two differ most."""
    va, vb = pair_viewsets(ia, ib, config)
    return [(b[0], b[1]) for b in va.boxes], [(b[0], b[1]) for b in vb.boxes]
