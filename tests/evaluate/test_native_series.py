"""Native-resolution known-order series: real photo kept at its pixels, levels drawn per series, worse each step."""

from __future__ import annotations

import json

import numpy as np
import skimage.data
from PIL import Image

from fgaesq.evaluate.native_series import (
    FAMILIES,
    RANGES,
    apply,
    draw_levels,
    make_series,
    severity,
    to_linear,
)


def _sharpness(a: np.ndarray) -> float:
    g = a.astype(np.float32).mean(2)
    return float(np.abs(np.diff(g, axis=1)).mean())


def test_every_family_writes_a_series_with_per_series_levels(tmp_path):
    photo = skimage.data.coffee()
    seen_levels = set()
    for fam in FAMILIES:
        rec = make_series("unit/coffee/full", "unit/coffee", photo, fam, 3, tmp_path)
        assert rec["category"] == fam and len(rec["ranking"]) == len(rec["levels"]) + 1 >= 3
        assert rec["levels"] == sorted(rec["levels"]) and all(0 <= t <= 1 for t in rec["levels"])
        assert np.all(np.diff(rec["levels"]) >= 0.1499)
        seen_levels.add(tuple(rec["levels"]))
        first = Image.open(tmp_path / rec["ranking"][0])
        assert first.size == (600, 400)  # native pixels: no reduction
        if fam == "jpeg":
            assert first.format == "PNG" and all(Image.open(tmp_path / p).format == "JPEG" for p in rec["ranking"][1:])
        for pair in rec["pairs"]:  # p = 1 exactly when a comes earlier in the true order
            assert pair["p"] == float(rec["ranking"].index(pair["a"]) < rec["ranking"].index(pair["b"]))
    assert len(seen_levels) == len(FAMILIES)  # no fixed ladder
    again = make_series("unit/coffee/full", "unit/coffee", photo, "noise", 3, tmp_path / "b")
    assert json.dumps(again, sort_keys=True) == json.dumps(
        make_series("unit/coffee/full", "unit/coffee", photo, "noise", 3, tmp_path / "c"), sort_keys=True
    )


def test_degradations_grow_with_severity():
    photo = skimage.data.astronaut()
    rng = np.random.default_rng(0)
    blur = [_sharpness(apply(photo, "focus", s, rng, {})) for s in (0.5, 1.0, 3.0)]
    assert _sharpness(photo) > blur[0] > blur[1] > blur[2]
    noise = [float(np.abs(apply(photo, "noise", s, rng, {"read": 0.3}).astype(float) - photo).mean()) for s in (2, 8)]
    assert 0 < noise[0] < noise[1]
    dark = apply(photo, "exposure", 1 / 3, rng, {"sign": -1.0})
    ratio = to_linear(dark).mean() / to_linear(photo).mean()
    assert abs(ratio - 2 ** (-1 / 3)) < 0.02  # a third of a stop, in linear light
    assert severity("focus", 0.0) == RANGES["focus"][0] and abs(severity("focus", 1.0) - RANGES["focus"][1]) < 1e-9
    assert severity("jpeg", 0.0) == 95.0 and severity("jpeg", 1.0) == 30.0
    levels = draw_levels(np.random.default_rng(1), 4)
    assert len(levels) == 4 and np.all(np.diff(levels) >= 0.15)
