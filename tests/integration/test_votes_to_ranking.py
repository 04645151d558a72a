"""The whole user path through the CLI: pairwise votes -> `fgaesq calibrate` -> `fgaesq train` -> `fgaesq rank`.

Real photos (skimage.data) degraded in known steps, votes from simulated annotators who mostly prefer the truly
better image, a tiny real-architecture model trained on the calibrated JSONL, and the exported weights used to rank
the same folders.
"""

from __future__ import annotations

import csv
import json

import numpy as np
import skimage.data as sd
from PIL import Image, ImageEnhance, ImageFilter
from typer.testing import CliRunner

from fgaesq.calibrate.simulate import SimAnnotator, simulate_votes
from fgaesq.cli import app

PHOTOS = ["astronaut", "chelsea", "coffee", "rocket", "cat", "camera"]


def _make_series(root):
    """Six series of one photo each: original (best) > blurred and darker > more blurred and much darker."""
    orders = {}
    for k, name in enumerate(PHOTOS):
        im = Image.fromarray(getattr(sd, name)()).convert("RGB").resize((128, 96))
        steps = [im] + [ImageEnhance.Brightness(im.filter(ImageFilter.GaussianBlur(r))).enhance(f)
                        for r, f in ((1.5, 0.7), (3.0, 0.4))]
        folder = root / f"series{k}"
        folder.mkdir(parents=True)
        names = []
        for lvl, step in enumerate(steps):
            step.save(folder / f"v{lvl}.png")
            names.append(f"series{k}/v{lvl}.png")
        orders[f"series{k}"] = names
    return orders


def test_votes_calibrate_train_rank(tmp_path):
    photos = tmp_path / "photos"
    orders = _make_series(photos)
    annotators = [SimAnnotator(f"ann{i}", kind="flip", error=0.1) for i in range(9)]
    votes = simulate_votes(orders, annotators, votes_per_pair=9, rng=np.random.default_rng(0))
    votes_csv = tmp_path / "votes.csv"
    with votes_csv.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["series", "image_a", "image_b", "choice", "annotator"])
        w.writerows([v.series, v.image_a, v.image_b, v.choice, v.annotator] for v in votes)

    runner = CliRunner()
    series_jsonl = photos / "series.jsonl"
    res = runner.invoke(app, ["calibrate", str(votes_csv), "--out", str(series_jsonl), "--root", "."],
                        catch_exceptions=False)
    assert res.exit_code == 0, res.output
    records = [json.loads(line) for line in series_jsonl.read_text().splitlines()]
    assert {r["series"]: r["ranking"] for r in records} == orders

    run = tmp_path / "run"
    res = runner.invoke(app, [
        "train", "--fine-train", str(series_jsonl), "--fine-val", str(series_jsonl), "--model", "fgaesq-tiny",
        "--init", "random", "--epochs", "12", "--val-every", "12", "--lr", "2e-3", "--fine-batch-images", "9",
        "--num-workers", "0", "--accelerator", "cpu", "--devices", "1", "--out-dir", str(run), "--no-progress",
    ], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output[res.output.index("{"):])
    assert summary["val"]["val/acc"] == 1.0

    out = tmp_path / "ranking.json"
    res = runner.invoke(app, ["rank", str(photos), "--series-by", "folder", "--weights", summary["exported"],
                              "--device", "cpu", "--out", str(out), "--quiet"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    best = {s["series"]: s["best"] for s in doc["series"]}
    assert len(best) == len(PHOTOS)
    scores = {s["series"]: [(r["path"][-6:], r["score"]) for r in s["ranking"]] for s in doc["series"]}
    assert all(best[sid].endswith(f"{sid}/v0.png") for sid in best), scores
