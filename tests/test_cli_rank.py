"""`fgaesq rank` as a user runs it: a flat folder of three real-photo bursts plus broken files."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import pyexiv2
import pytest
from typer.testing import CliRunner

from fgaesq.cli import app
from rank_cli_helpers import bad_files, burst_photos, save_tiny_weights


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def shoot(tmp_path_factory):
    root = tmp_path_factory.mktemp("rank-cli")
    weights = save_tiny_weights(root / "weights")
    folder = root / "shoot"
    bursts = burst_photos.make_bursts(folder, (4, 3, 3), max_side=320)
    bad = bad_files.make_bad_files(folder / "_bad")
    for p in bad.values():  # put the broken files straight into the shoot
        p.rename(folder / p.name)
    (folder / "_bad").rmdir()
    bad = {kind: folder / p.name for kind, p in bad.items()}
    hashes = {p: _sha(p) for p in folder.iterdir()}
    return {"root": root, "folder": folder, "weights": weights, "bursts": bursts, "bad": bad, "hashes": hashes}


def _run(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def first_run(shoot):
    out = shoot["root"] / "out" / "ranking.json"
    best = shoot["root"] / "best"
    res = _run("rank", shoot["folder"], "--weights", shoot["weights"], "--out", out, "--xmp", "--copy-best", best)
    return res, json.loads(out.read_text()), best


def test_exit_code_and_one_line_per_bad_file(shoot, first_run):
    res, doc, _ = first_run
    assert res.exit_code == 1, res.output
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("skipped ")]
    assert len(lines) == len(shoot["bad"]) == 6
    for p in shoot["bad"].values():
        assert sum(str(p) in ln for ln in lines) == 1
    assert res.stderr.splitlines()[0].startswith("ranking with fgaesq-tiny")
    errors = {e["path"]: e["error"] for e in doc["errors"]}
    assert set(errors) == {str(p) for p in shoot["bad"].values()}
    assert "truncated" in errors[str(shoot["bad"]["truncated"])]
    assert "decompression" in errors[str(shoot["bad"]["bomb"])]


def test_three_bursts_ranked_with_best_picks(shoot, first_run):
    _, doc, _ = first_run
    assert doc["schema"] == "fgaesq.ranking/1" and doc["series_by"] == "time+similarity"
    assert doc["model"].startswith("fgaesq-tiny")
    assert [len(s["ranking"]) for s in doc["series"]] == [4, 3, 3]
    for s, paths in zip(doc["series"], shoot["bursts"].values(), strict=True):
        assert sorted(r["path"] for r in s["ranking"]) == [str(p) for p in paths]
        assert s["best"] == s["ranking"][0]["path"]
        assert set(s) == {"series", "count", "best", "strategy", "pairs", "forward_passes", "ranking"}
        for r in s["ranking"]:
            assert set(r) == {"rank", "path", "score", "raw_score", "pairs", "rating"}
    assert doc["summary"] == {"images": 10, "series": 3, "failed": 6, "forward_passes": doc["summary"]["forward_passes"]}


def test_xmp_sidecars_read_back_and_originals_untouched(shoot, first_run):
    _, doc, _ = first_run
    for s in doc["series"]:
        for r in s["ranking"]:
            side = Path(r["path"] + ".xmp")
            img = pyexiv2.Image(str(side))
            xmp = img.read_xmp()
            img.close()
            assert int(xmp["Xmp.xmp.Rating"]) == r["rating"]
            assert (xmp.get("Xmp.xmp.Label") == "Green") == (r["rank"] == 1)
            assert xmp["Xmp.fgaesq.Series"] == s["series"] and int(xmp["Xmp.fgaesq.Rank"]) == r["rank"]
        assert s["ranking"][0]["rating"] == 5 and s["ranking"][-1]["rating"] == 1
    for p, h in shoot["hashes"].items():
        assert _sha(p) == h, f"{p} was modified"


def test_copy_best(first_run):
    _, doc, best = first_run
    copied = sorted(best.iterdir())
    assert [p.name for p in copied] == sorted(Path(s["best"]).name for s in doc["series"])
    for s in doc["series"]:
        assert (best / Path(s["best"]).name).read_bytes() == Path(s["best"]).read_bytes()


def test_same_run_twice_identical_json_and_csv(shoot, first_run):
    _, doc, _ = first_run
    out_json, out_csv = shoot["root"] / "again.json", shoot["root"] / "again.csv"
    r1 = _run("rank", shoot["folder"], "--weights", shoot["weights"], "--out", out_json, "--quiet")
    r2 = _run("rank", shoot["folder"], "--weights", shoot["weights"], "--out", out_csv, "--quiet")
    assert r1.exit_code == r2.exit_code == 1
    assert json.loads(out_json.read_text()) == doc
    first_text = (shoot["root"] / "out" / "ranking.json").read_text()
    assert out_json.read_text() == first_text
    rows = list(csv.DictReader(io.StringIO(out_csv.read_text())))
    assert list(rows[0]) == ["series", "rank", "path", "score", "raw_score", "pairs", "rating", "best", "error"]
    ranked = [r for r in rows if r["series"]]
    failed = [r for r in rows if r["error"]]
    assert len(ranked) == 10 and len(failed) == 6
    flat = [(s["series"], r["path"], f"{r['score']:.6f}") for s in doc["series"] for r in s["ranking"]]
    assert [(r["series"], r["path"], r["score"]) for r in ranked] == flat
    assert [r["best"] for r in ranked].count("true") == 3


def test_json_to_stdout_and_time_grouping(shoot):
    res = _run("rank", shoot["folder"], "--weights", shoot["weights"], "--series-by", "time", "--time-gap", "60",
               "--json", "--quiet")
    doc = json.loads(res.stdout)
    assert doc["series_by"] == "time" and [s["count"] for s in doc["series"]] == [4, 3, 3]
    res = _run("rank", shoot["folder"], "--weights", shoot["weights"], "--series-by", "time", "--time-gap", "1",
               "--json", "--quiet")
    assert len(json.loads(res.stdout)["series"]) == 10  # 1.25 s between frames: every frame alone


@pytest.mark.parametrize(
    "args, words",
    [
        (["--series-by", "colour"], "--series-by"),
        (["--out", "ranking.txt"], ".json or .csv"),
        (["--weights", "/nonexistent/x.safetensors"], "--weights"),
        (["--k", "0"], "--k"),
        (["--references", "closest"], "--references"),
    ],
)
def test_usage_errors_exit_2(shoot, args, words):
    res = _run("rank", shoot["folder"], *args)
    assert res.exit_code == 2 and words in res.stderr


def test_not_a_folder_exits_2(shoot):
    res = _run("rank", shoot["bad"]["text"])
    assert res.exit_code == 2 and "not a folder" in res.stderr


def test_no_weights_uses_the_starter_model_and_groups_by_look(shoot):
    """Offline, with no --weights: fgaesq-lite scores, and its features separate the three bursts."""
    res = _run("rank", shoot["folder"], "--series-by", "similarity", "--json")
    assert res.exit_code == 1  # the broken files
    assert res.stderr.splitlines()[0].startswith("ranking with fgaesq-lite")
    doc = json.loads(res.stdout)
    assert doc["series_by"] == "similarity"
    got = sorted(sorted(r["path"] for r in s["ranking"]) for s in doc["series"])
    assert got == sorted([str(p) for p in paths] for paths in shoot["bursts"].values())


def test_series_mode_and_onnx_backend_from_the_command_line(shoot, tmp_path, monkeypatch):
    """`--mode series` ranks every burst with one forward per photo; `--backend onnx` gives the torch ranking."""
    pytest.importorskip("onnxruntime")
    monkeypatch.setenv("FGAESQ_CACHE", str(tmp_path / "cache"))
    docs = {}
    for backend in ("torch", "onnx"):
        out = tmp_path / f"{backend}.json"
        res = _run("rank", shoot["folder"], "--weights", shoot["weights"], "--mode", "series", "--backend", backend,
                   "--out", out, "--quiet")
        assert res.exit_code == 1  # the broken files are reported, the rest ranked
        docs[backend] = json.loads(out.read_text())
    series = docs["torch"]["series"]
    assert [s["strategy"] for s in series] == ["series"] * 3
    assert [len(s["ranking"]) for s in series] == [len(b) for b in shoot["bursts"].values()]
    for a, b in zip(series, docs["onnx"]["series"], strict=True):
        assert [r["path"] for r in a["ranking"]] == [r["path"] for r in b["ranking"]]
        assert all(abs(x["score"] - y["score"]) <= 1e-4 for x, y in zip(a["ranking"], b["ranking"], strict=True))
    bad = _run("rank", shoot["folder"], "--weights", shoot["weights"], "--mode", "everything")
    assert bad.exit_code == 2 and "--mode must be one of" in bad.output
