"""A photographer's overrides in `fgaesq review` fine-tune the model: review -> export votes -> calibrate -> train -> rank.

Two real bursts (skimage photos) are ranked by a tiny real-architecture model; the user names the model's *worst*
frame of each series the best (B). Those judgements, exported and calibrated, fine-tune the model until it agrees.
"""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from fgaesq.cli import app
from fgaesq.serve.annotate.db import make_engine
from fgaesq.serve.review.shoot import load_rank_json
from fgaesq.serve.review.store import ReviewStore
from rank_cli_helpers import burst_photos, save_tiny_weights


def _best(rank_json: Path) -> dict[str, str]:
    return {s["series"]: Path(s["best"]).name for s in json.loads(rank_json.read_text())["series"]}


def test_overrides_in_review_fine_tune_the_model(tmp_path: Path) -> None:
    shoot = tmp_path / "shoot"
    burst_photos.make_bursts(shoot, (3, 3), max_side=240)
    weights = save_tiny_weights(tmp_path)
    runner = CliRunner()
    before = tmp_path / "before.json"
    res = runner.invoke(app, ["rank", str(shoot), "--weights", str(weights), "--device", "cpu", "--out", str(before), "-q"])
    assert res.exit_code == 0, res.output

    db = tmp_path / "review.sqlite"
    review = load_rank_json(before, shoot)
    store = ReviewStore(make_engine(f"sqlite:///{db}"), review, annotator="me")
    wanted = {}
    for s in review.series:  # the model's worst frame is, to this photographer, the best
        store.decide(s.frames[-1].rel, "best")
        wanted[s.name] = s.frames[-1].path.name
    store.engine.dispose()
    assert all(_best(before)[k] != v for k, v in wanted.items())

    votes = shoot / "votes.csv"
    res = runner.invoke(app, ["review", str(shoot), "--db", str(db), "--export-votes", str(votes)])
    assert res.exit_code == 0, res.output
    series = shoot / "mine.jsonl"
    res = runner.invoke(app, ["calibrate", str(votes), "--root", ".", "--out", str(series)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, [
        "train", "--init", str(weights), "--model", "fgaesq-tiny", "--fine-train", str(series), "--fine-val", str(series),
        "--stage1-epochs", "0", "--coarse-per-fine", "0", "--epochs", "3", "--lr", "1e-3", "--num-workers", "0",
        "--accelerator", "cpu", "--devices", "1", "--out-dir", str(tmp_path / "run"), "--no-progress",
    ], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output[res.output.index("{"):])
    assert summary["val"]["val/acc"] == 1.0

    after = tmp_path / "after.json"
    res = runner.invoke(app, ["rank", str(shoot), "--weights", summary["exported"], "--device", "cpu", "--out", str(after), "-q"])
    assert res.exit_code == 0, res.output
    assert _best(after) == wanted
