"""Known-order series from real photos: deterministic files, every step measurably worse, splits by photo."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import skimage.data
from PIL import Image

from fgaesq.data.fine import read_jsonl_series
from fgaesq.evaluate.degrade import LEVELS, degrade, series_params
from fgaesq.evaluate.known_order import SPLITS, make_series, prepare_photo, split_of


@pytest.fixture(scope="module")
def coffee() -> np.ndarray:
    return prepare_photo(skimage.data.coffee())[:256, :320]


def _md5s(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.md5(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*.jpg"))
    }


def test_make_series_is_deterministic_and_well_formed(tmp_path, coffee):
    a = make_series("skimage/coffee", coffee, "noise", 0, tmp_path / "a")
    b = make_series("skimage/coffee", coffee, "noise", 0, tmp_path / "b")
    assert a == b
    assert _md5s(tmp_path / "a") == _md5s(tmp_path / "b")
    n = len(a["images"])
    assert 3 <= n <= 6 and sorted(a["images"]) == sorted(a["ranking"])
    assert a["ranking"][0].endswith("-0.jpg")  # the untouched photo is best
    assert len(a["pairs"]) == n * (n - 1) // 2
    assert {q["p"] for q in a["pairs"]} <= {0.0, 1.0}
    rank = {im: k for k, im in enumerate(a["ranking"])}
    for q in a["pairs"]:
        assert (q["p"] == 1.0) == (rank[q["a"]] < rank[q["b"]])
    # the record round-trips through the evaluation reader
    (tmp_path / "a" / "s.jsonl").write_text(json.dumps(a) + "\n")
    (s,) = read_jsonl_series(tmp_path / "a" / "s.jsonl")
    assert all(p.is_file() for p in s.images) and s.category == "noise"


def _lap_var(img: np.ndarray) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var())


@pytest.mark.parametrize("family", list(LEVELS))
def test_each_step_is_measurably_worse(family, coffee):
    rng = np.random.default_rng(1)
    params = series_params(coffee, family, rng)
    imgs = [coffee] + [degrade(coffee, family, lv, rng, params) for lv in LEVELS[family]]
    ref = coffee.astype(np.float64)
    if family in ("defocus", "motion"):
        m = [_lap_var(i) for i in imgs]
        assert all(x > y for x, y in zip(m, m[1:], strict=False)), m  # sharpness falls
    elif family == "jpeg":
        m = [len(_png_bytes(i)) for i in imgs[1:]]
        assert all(x > y for x, y in zip(m, m[1:], strict=False)), m  # less information kept
        err = [np.abs(i.astype(np.float64) - ref).mean() for i in imgs]
        assert all(x < y for x, y in zip(err, err[1:], strict=False)), err
    else:
        err = [np.abs(i.astype(np.float64) - ref).mean() for i in imgs]
        assert all(x < y for x, y in zip(err, err[1:], strict=False)), err  # farther from the photo each step
    assert all(i.shape == coffee.shape and i.dtype == np.uint8 for i in imgs)


def _png_bytes(img: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    return buf.getvalue()


def test_exposure_and_colour_push_away_from_neutral(coffee):
    rng = np.random.default_rng(0)
    p = series_params(coffee, "exposure", rng)
    lum = [degrade(coffee, "exposure", lv, rng, p).mean() for lv in LEVELS["exposure"]]
    assert all((y - x) * p["sign"] > 0 for x, y in zip(lum, lum[1:], strict=False))
    dark = (coffee * 0.2).astype(np.uint8)
    assert series_params(dark, "exposure", rng)["sign"] == -1.0  # a dark photo only gets darker


def test_split_by_source_is_stable_and_uses_every_split():
    ids = [f"clive/{i}.jpg" for i in range(300)]
    first = [split_of(i, 0) for i in ids]
    assert first == [split_of(i, 0) for i in ids]
    counts = {name: first.count(name) for name, _ in SPLITS}
    for name, share in SPLITS:
        assert abs(counts[name] / len(ids) - share) < 0.08, counts
