"""The benchmark builder works with whichever sources are present, records them and their licences.

Not part of the package's test suite (it tests benchmark code): `python -m pytest benchmarks/known_order`.
"""

from __future__ import annotations

import hashlib
import json

from benchmarks.data_sources import clive_dir
from benchmarks.known_order import build as build_mod
from benchmarks.known_order import sources


def _digest(root) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(root)).encode() + p.read_bytes())
    return h.hexdigest()


def test_build_without_debian_sources(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "OPENCV_DATA", tmp_path / "absent-opencv")
    monkeypatch.setattr(sources, "MATE_DIR", tmp_path / "absent-mate")
    monkeypatch.setattr(sources, "SKIMAGE_PHOTOS", ("chelsea", "coffee"))
    m = build_mod.build(tmp_path / "a", clive_limit=2)
    assert m["origins_used"] == ["clive", "skimage"]
    assert [s["id"] for s in m["sources"]] == [
        "clive/10.png",
        "clive/1000.jpg",
        "skimage/chelsea",
        "skimage/coffee",
    ]
    assert all(s["licence"] for s in m["sources"])
    assert "CC0" in next(s["licence"] for s in m["sources"] if s["id"] == "skimage/coffee")
    readme = (tmp_path / "a" / "README.md").read_text()
    assert "measures ordering by construction, not human taste" in readme
    assert (tmp_path / "a" / "LIVE-NOTICE.txt").read_text() == (clive_dir() / "LIVE-NOTICE.txt").read_text()
    n_series = sum(v["series"] for v in m["splits"].values())
    assert n_series == 4 * build_mod.FAMILIES_PER_SOURCE
    for split, info in m["splits"].items():
        lines = (tmp_path / "a" / split / "series.jsonl").read_text().splitlines()
        assert len(lines) == info["series"]
        for line in lines:  # every series of a photo sits in that photo's split
            rec = json.loads(line)
            assert next(s["split"] for s in m["sources"] if s["id"] == rec["source"]) == split
    build_mod.build(tmp_path / "b", clive_limit=2)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")  # deterministic, byte for byte


def test_extra_train_families_complete_the_regular_ones():
    from benchmarks.known_order.build_native import extra_families
    from fgaesq.evaluate.native_series import FAMILIES

    regular = ["tilt", "mixed", "focus"]
    extra = extra_families(regular, len(FAMILIES))
    assert sorted(regular + extra) == sorted(FAMILIES) and extra[0] == "motion"
    assert extra_families(regular, 0) == [] and extra_families(regular, 4) == ["motion"]


def test_train_clive_adds_train_only_bases_and_keeps_val_test(tmp_path, monkeypatch):
    from benchmarks.known_order import build_native

    monkeypatch.setattr(build_native, "native_sources", lambda: [])
    monkeypatch.setattr(sources, "OPENCV_DATA", tmp_path / "absent-opencv")
    monkeypatch.setattr(sources, "SKIMAGE_PHOTOS", ("chelsea", "coffee"))
    base = build_native.build(tmp_path / "a", clive_limit=2)
    more = build_native.build(tmp_path / "b", clive_limit=2, train_clive=3)
    extra = more["sources"][len(base["sources"]):]
    assert more["train_clive"] == 3 and len(extra) == 3
    assert all(s["split"] == "train" and s["origin"] == "clive" for s in extra)
    held = sources.clive_val_names()
    assert not {s["id"].split("/", 1)[1] for s in extra} & held  # never a coarse-validation photo
    assert not {s["id"] for s in extra} & {s["id"] for s in base["sources"]}  # not the --clive photos again
    for split in ("val", "test"):  # val and test unchanged, byte for byte
        assert _digest(tmp_path / "a" / split) == _digest(tmp_path / "b" / split)
    train = [json.loads(ln) for ln in (tmp_path / "b" / "train" / "series.jsonl").read_text().splitlines()]
    per_extra = [sum(r["source"] == s["id"] for r in train) for s in extra]
    assert per_extra == [build_native.FAMILIES_PER_SMALL] * 3


def test_train_shift_takes_the_sources_jpeg_lattice_off_the_grid_in_train_only(tmp_path, monkeypatch):
    """CLIVE's 1000.jpg is an IJG q75 JPEG: unshifted, the clean frame of its train series shows that lattice
    (and no degraded copy does); with --train-shift 3 it shows none, and val/test stay byte for byte."""
    import numpy as np
    import torch
    from PIL import Image

    from benchmarks.known_order import build_native
    from fgaesq.model.lite.technical import jpeg_luma, quantisation

    monkeypatch.setattr(build_native, "native_sources", lambda: [])
    monkeypatch.setattr(sources, "OPENCV_DATA", tmp_path / "absent-opencv")
    monkeypatch.setattr(sources, "SKIMAGE_PHOTOS", ("chelsea", "coffee"))

    def clean_frame_lattice(root) -> tuple[float, tuple[int, int]]:
        recs = [json.loads(ln) for ln in (root / "train" / "series.jsonl").read_text().splitlines()]
        rec = next(r for r in recs if r["source"] == "clive/1000.jpg" and r["category"] != "jpeg")
        img = Image.open(root / "train" / rec["ranking"][0]).convert("RGB")
        px = torch.from_numpy(np.asarray(img, np.float32)[:448, :448]).permute(2, 0, 1)
        return float(quantisation(jpeg_luma(px[None, None]))[0, 0]), img.size

    plain = build_native.build(tmp_path / "a", clive_limit=2, seed=2)  # seed 2: 1000.jpg lands in train
    shifted = build_native.build(tmp_path / "b", clive_limit=2, seed=2, train_shift=3)
    assert next(s["split"] for s in plain["sources"] if s["id"] == "clive/1000.jpg") == "train"
    (lat_a, size_a), (lat_b, size_b) = clean_frame_lattice(tmp_path / "a"), clean_frame_lattice(tmp_path / "b")
    assert lat_a > 2.0 and lat_b == 0.0
    assert size_b == (size_a[0] - 3, size_a[1] - 3) and shifted["train_shift"] == 3
    for split in ("val", "test"):
        assert _digest(tmp_path / "a" / split) == _digest(tmp_path / "b" / split)
