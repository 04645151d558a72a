"""`fgaesq score`: every input format, every bad-input kind, CSV/JSON schema, exit codes."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from PIL import Image
from skimage import data
from typer.testing import CliRunner

from fgaesq.cli import app
from rank_cli_helpers import bad_files, save_tiny_weights

FORMATS = {"jpg": {"quality": 95}, "png": {}, "webp": {"quality": 95}, "tiff": {}, "bmp": {}, "heic": {"quality": 95}}


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("score-cli")
    weights = save_tiny_weights(root / "weights")
    good = root / "photos"
    good.mkdir()
    arr = data.chelsea()
    for ext, kw in FORMATS.items():
        Image.fromarray(arr).save(good / f"chelsea.{ext}", **kw)
    (good / "nested").mkdir()
    Image.fromarray(data.coffee()).save(good / "nested" / "coffee.png")
    bad = bad_files.make_bad_files(root / "bad")
    return {"root": root, "weights": weights, "good": good, "bad": bad}


def _run(*args):
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_every_format_scores_alike(setup):
    res = _run("score", setup["good"], "--weights", setup["weights"], "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["schema"] == "fgaesq.scores/1" and doc["errors"] == []
    scores = {r["path"].rsplit(".", 1)[1]: r["score"] for r in doc["images"]}
    assert set(scores) == set(FORMATS)  # nested/ not searched without --recursive
    lossless = [scores[k] for k in ("png", "tiff", "bmp")]
    assert lossless[0] == lossless[1] == lossless[2]
    assert all(abs(scores[k] - lossless[0]) < 0.05 for k in FORMATS)
    assert all(1 <= s <= 10 for s in scores.values())


def test_recursive_and_table(setup):
    res = _run("score", setup["good"], "--recursive", "--weights", setup["weights"])
    assert res.exit_code == 0
    assert "nested/coffee.png" in res.stdout and "chelsea.heic" in res.stdout
    assert res.stderr.splitlines()[0].startswith("scoring with fgaesq-tiny")


def test_bad_inputs_one_line_each_and_exit_1(setup):
    out = setup["root"] / "scores.json"
    files = list(setup["bad"].values()) + [setup["good"] / "chelsea.png"]
    res = _run("score", *files, "--weights", setup["weights"], "--out", out, "--quiet")
    assert res.exit_code == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == len(bad_files.BAD_KINDS)
    assert all(ln.startswith("skipped ") for ln in lines)
    doc = json.loads(out.read_text())
    assert [e["path"] for e in doc["errors"]] == [str(p) for p in setup["bad"].values()]
    assert len(doc["images"]) == 1 and doc["summary"] == {"scored": 1, "failed": 6}
    assert res.stdout == ""  # --quiet: no table


def test_csv_schema_and_determinism(setup):
    a, b = setup["root"] / "a.csv", setup["root"] / "b.csv"
    args = [setup["good"], setup["bad"]["zero"], "--weights", setup["weights"], "--quiet"]
    assert _run("score", *args, "--out", a).exit_code == 1
    assert _run("score", *args, "--out", b).exit_code == 1
    assert a.read_text() == b.read_text()
    rows = list(csv.DictReader(io.StringIO(a.read_text())))
    assert list(rows[0]) == ["path", "score", "error"]
    scored = [r for r in rows if r["score"]]
    assert len(scored) == 6 and all(np.isfinite(float(r["score"])) for r in scored)
    assert [r["path"] for r in rows if r["error"]] == [str(setup["bad"]["zero"])]


def test_max_size_changes_the_input(setup):
    path = setup["good"] / "chelsea.png"
    full = json.loads(_run("score", path, "--weights", setup["weights"], "--json").stdout)["images"][0]["score"]
    small = json.loads(_run("score", path, "--weights", setup["weights"], "--json", "--max-size", "128").stdout)
    assert small["images"][0]["score"] != full


def test_usage_errors(setup, tmp_path):
    assert _run("score", tmp_path / "missing.jpg").exit_code == 2
    assert _run("score", tmp_path).exit_code == 2  # empty folder: nothing to score
    res = _run("score", setup["good"], "--out", tmp_path / "x.txt")
    assert res.exit_code == 2 and ".json or .csv" in res.stderr
