"""Fuzz suite: a fixed-seed corpus of mutated real photos (JPEG/PNG/WebP/TIFF/HEIC), hostile sidecars, odd
names and special files through `load_image`, `fgaesq score`, `fgaesq rank --xmp` and the annotation server's
image route. Every bad input must be the project's error (one line), never a crash, a 500 or a lost run."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from fgaesq.cli import app
from fgaesq.io import ImageError, capture_time, load_image
from fgaesq.io.names import printable
from fgaesq.io.xmp import SidecarError, sidecar_path
from rank_cli_helpers import save_tiny_weights

_spec = importlib.util.spec_from_file_location("fgaesq_bench_fuzz", Path(__file__).parents[1] / "benchmarks" / "fuzz.py")
fuzz = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fuzz)

N_IMAGES = 300
N_IN_FOLDER = 36


@pytest.fixture(scope="module")
def corpus() -> list[tuple[str, bytes]]:
    return list(fuzz.corpus(N_IMAGES, seed=0))


def test_corpus_covers_every_format_and_both_outcomes(corpus):
    exts = {ext for ext, _ in corpus}
    assert {".jpg", ".png", ".webp", ".tif", ".heic"} <= exts
    assert len({hashlib.sha1(d).digest() for _, d in corpus}) > 0.95 * len(corpus)


def test_every_mutation_is_decoded_or_one_image_error(corpus, tmp_path):
    outcomes = {"ok": 0, "image-error": 0}
    with fuzz.StderrCounter() as err:
        for i, (ext, data) in enumerate(corpus):
            path = tmp_path / f"m{i}{ext}"
            path.write_bytes(data)
            for source, kw in ((path, {}), (data, {"name": path.name})):
                try:
                    img = load_image(source, 256, **kw)
                    assert img.mode == "RGB" and max(img.size) <= 256
                    outcomes["ok"] += 1
                except ImageError as e:
                    assert e.reason and "\n" not in e.reason
                    outcomes["image-error"] += 1
            capture_time(path)  # never raises
    assert outcomes["ok"] > 50 and outcomes["image-error"] > 50
    assert err.lines == 0, err.text[:2000]


def _hostile_folder(root: Path, corpus) -> tuple[Path, list[Path], dict[Path, bytes]]:
    """A shoot folder of mutated photos with odd names, special files and hostile sidecars."""
    folder = root / "shoot"
    folder.mkdir()
    names = ["plain", os.fsdecode(b"bad_\xff"), "new\nline", "esc\x1b[2J", "space name", "ünïcødé"]
    files = []
    for i, (ext, data) in enumerate(corpus[:N_IN_FOLDER]):
        p = folder / f"{names[i % len(names)]}_{i:03d}{ext}"
        p.write_bytes(data)
        files.append(p)
    os.mkfifo(folder / "pipe.jpg")
    (folder / "dangling.jpg").symlink_to(root / "missing.jpg")
    (folder / "loop.png").symlink_to(folder / "loop.png")
    files += [folder / "pipe.jpg", folder / "dangling.jpg", folder / "loop.png"]
    sidecars = {}
    for i, data in enumerate(fuzz.HOSTILE_SIDECARS[2:6]):  # malformed, billion laughs, XXE, deep nesting
        side = sidecar_path(files[i])
        side.write_bytes(data)
        sidecars[side] = data
    return folder, files, sidecars


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, corpus):
    root = tmp_path_factory.mktemp("fuzz")
    folder, files, sidecars = _hostile_folder(root, corpus)
    outside = root / "outside.txt"
    outside.write_text("untouched\n")
    (folder / f"{files[5].name}.xmp.tmp").symlink_to(outside)
    weights = save_tiny_weights(root / "weights")
    return {"root": root, "folder": folder, "files": files, "sidecars": sidecars, "weights": weights,
            "outside": outside}


def _run(*args):
    return CliRunner().invoke(app, [os.fspath(a) for a in args], catch_exceptions=False)


def test_score_reports_every_file_once(hostile):
    res = _run("score", hostile["folder"], "--weights", hostile["weights"], "--json")
    assert res.exit_code == 1
    doc = json.loads(res.stdout)
    seen = [im["path"] for im in doc["images"]] + [e["path"] for e in doc["errors"]]
    assert sorted(seen) == sorted(str(p) for p in hostile["files"])
    skipped = [ln for ln in res.stderr.splitlines() if ln.startswith("skipped ")]
    assert len(skipped) == len(doc["errors"]) and doc["images"]
    assert "\x1b" not in res.stderr


def test_rank_xmp_survives_the_folder_and_writes_nothing_outside(hostile):
    before = {p: p.read_bytes() for p in hostile["root"].rglob("*") if p.is_file() and "shoot" not in p.parts}
    out = hostile["root"] / "ranking.json"
    res = _run("rank", hostile["folder"], "--weights", hostile["weights"], "--xmp", "--out", out, "-q")
    assert res.exit_code == 1
    doc = json.loads(out.read_text(encoding="utf-8"))
    ranked = [r["path"] for s in doc["series"] for r in s["ranking"]]
    failed = [e["path"] for e in doc["errors"]]
    assert sorted(ranked + failed) == sorted(str(p) for p in hostile["files"])
    for side, data in hostile["sidecars"].items():
        assert side.read_bytes() == data  # unreadable sidecars left untouched, reported once each
        photo = str(side)[: -len(".xmp")]
        assert sum(printable(side) in ln for ln in res.stderr.splitlines()) == (photo in ranked)
    for path in ranked:
        if sidecar_path(path) not in hostile["sidecars"]:
            assert sidecar_path(path).is_file() and not sidecar_path(path).is_symlink()
    assert hostile["outside"].read_text() == "untouched\n"
    after = {p: p.read_bytes() for p in hostile["root"].rglob("*") if p.is_file() and "shoot" not in p.parts}
    assert {p: v for p, v in after.items() if p != out} == before
    assert not [p for p in hostile["folder"].iterdir() if p.name.endswith(".tmp") and not p.is_symlink()]


def test_hostile_and_mutated_sidecars_never_crash(tmp_path):
    from fgaesq.io.xmp import write_sidecar

    photo = tmp_path / "p.jpg"
    photo.write_bytes(b"x")
    outcomes = {"ok": 0, "refused": 0}
    for data in fuzz.sidecar_corpus(200, seed=0):
        sidecar_path(photo).write_bytes(data)
        try:
            write_sidecar(photo, rating=4, fields={"Score": "1.0"})
            outcomes["ok"] += 1
        except SidecarError:
            assert sidecar_path(photo).read_bytes() == data
            outcomes["refused"] += 1
    assert outcomes["ok"] and outcomes["refused"]


def test_annotation_image_route_never_500(tmp_path, corpus):
    from fgaesq.serve.annotate.app import build_store, create_app

    series = tmp_path / "root" / "fuzz"
    series.mkdir(parents=True)
    picked = [(i, ext, d) for i, (ext, d) in enumerate(corpus) if ext in (".tif", ".heic", ".jpg", ".png")][:80]
    for i, ext, data in picked:
        (series / f"m{i:03d}{ext}").write_bytes(data)
    store = build_store(tmp_path / "root", str(tmp_path / "v.sqlite"))
    statuses = {}
    with TestClient(create_app(store), raise_server_exceptions=False) as client:
        for name in store.catalog.series["fuzz"].images:
            statuses[name] = client.get(f"/img/fuzz/{name}").status_code
    assert set(statuses.values()) <= {200, 422}, {k: v for k, v in statuses.items() if v not in (200, 422)}
    assert 200 in statuses.values() and 422 in statuses.values()
