"""Why a frame won a comparison: the regions the model looked at for one pair, and the score margin.

FGAesQ (DiffToken): the per-cell importance (1 - SSIM between the two frames, 32-px cells) and the cells chosen
for fine tokens. fgaesq-lite: its global view and the crops it scored. Regions are boxes in fractions of the
photo (x, y, w, h in 0-1), so the browser can draw them over any size of preview.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from fgaesq.io import load_image

CELL = 32


def _box(x: float, y: float, w: float, h: float, size: tuple[int, int]) -> list[float]:
    W, H = size
    x0, y0 = max(0.0, x / W), max(0.0, y / H)
    x1, y1 = min(1.0, (x + w) / W), min(1.0, (y + h) / H)
    return [round(x0, 5), round(y0, 5), round(max(0.0, x1 - x0), 5), round(max(0.0, y1 - y0), 5)]


def _difftoken_regions(tokens, k: int) -> dict:
    """Importance cells and fine cells of one image of a tokenized pair."""
    info = tokens.info
    rows, cols = info["grid32"]
    size = tuple(info["geometry"]["final_wh"][k])
    imp = np.asarray(info["importance"], dtype=np.float64).reshape(rows, cols)
    finite = imp[np.isfinite(imp)]
    top = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    cells = []
    for r in range(rows):
        for c in range(cols):
            v = imp[r, c]
            if math.isfinite(v):
                cells.append([*_box(c * CELL, r * CELL, CELL, CELL, size), round(float(v) / top, 4)])
    fine = [_box((i % cols) * CELL, (i // cols) * CELL, CELL, CELL, size) for i in info["fine_cells"]]
    return {"cells": cells, "fine": fine, "grid": [rows, cols]}


def _decode(scorer, path: Path, max_size: int | None):
    """The image as the scorer decodes it (its own preprocessing when it has one)."""
    pre = getattr(scorer, "preprocess", None)
    if pre is not None:
        from fgaesq.scoring.images import decode

        return decode(path, pre)
    return load_image(path, max_size)


def _lite_regions(scorer, a: Path, b: Path, max_size: int | None) -> tuple[dict, dict]:
    from fgaesq.model.lite.views import pair_view_boxes, single_boxes, view_image

    cfg = scorer.model.config
    ia = view_image(_decode(scorer, a, max_size), cfg)
    ib = view_image(_decode(scorer, b, max_size), cfg)
    s = cfg.view_size
    if getattr(scorer, "pair_crops", False):
        boxes_a, boxes_b = pair_view_boxes(ia, ib, cfg)
    else:
        boxes_a = single_boxes(*ia.size, s, cfg.n_crops)
        boxes_b = single_boxes(*ib.size, s, cfg.n_crops)
    out = []
    for img, boxes in ((ia, boxes_a), (ib, boxes_b)):
        out.append({"views": [_box(x, y, s, s, img.size) for x, y in boxes], "global": True})
    return out[0], out[1]


def explain_pair(scorer, a: Path, b: Path, pair_id: str, *, max_size: int | None = 2048) -> dict:
    """Scores of a against b and b against a in one comparison, their margin, and the deciding regions of each."""
    scores = np.asarray(scorer.score_pairs([(str(a), str(b), pair_id)]), dtype=np.float64).reshape(-1)
    out: dict = {"scores": [round(float(scores[0]), 4), round(float(scores[1]), 4)],
                 "margin": round(float(scores[0] - scores[1]), 4), "pair_id": pair_id}
    tokenizer = getattr(scorer, "tokenizer", None)
    if tokenizer is not None and hasattr(tokenizer, "pair"):
        ta, tb = tokenizer.pair(_decode(scorer, a, max_size), _decode(scorer, b, max_size), pair_id=pair_id)
        out.update(kind="difftoken", a=_difftoken_regions(ta, 0), b=_difftoken_regions(tb, 1))
    elif hasattr(scorer, "model") and hasattr(scorer.model, "config") and hasattr(scorer.model.config, "view_size"):
        ra, rb = _lite_regions(scorer, a, b, max_size)
        out.update(kind="views", a=ra, b=rb, pair_crops=bool(getattr(scorer, "pair_crops", False)))
    else:
        out.update(kind="scores", a={}, b={})
    return out
