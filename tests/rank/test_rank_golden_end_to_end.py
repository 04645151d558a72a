"""End to end against the authors' recorded series: `fgaesq rank` on their folder layout with the sinhash weights.

The golden images are laid out as `<series>/<series>-<idx>.png`, the sinhash stand-in weights are written as an
authors'-layout checkpoint, and the command's rankings and aggregated scores must match the recorded ones. This
exercises layout parsing, pair ids `{series}_{i}_{j}`, DiffToken pair mode, the ViT-B/16 forward in compatibility
mode and the aggregation together. It takes about 40 s of CPU time and runs in the default suite.
"""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from fgaesq.cli import app
from sinhash import sinhash_authors_state_dict


@pytest.mark.parity
@pytest.mark.slow
def test_rank_reproduces_the_golden_series(golden_dir, tmp_path):
    series = json.loads((golden_dir / "manifest.json").read_text())["series"]
    root = tmp_path / "series"
    for name, rec in series.items():
        (root / name).mkdir(parents=True)
        for idx, file_name in rec["images"].items():
            # stored as lossless WebP; written back as the PNGs of the recorded layout (same pixels)
            Image.open(golden_dir / "images" / f"series{name}_{idx}.webp").save(root / name / file_name)
    weights = tmp_path / "best.pt"
    torch.save(sinhash_authors_state_dict("fgaesq-vit-b-16"), weights)
    out = tmp_path / "ranking.json"
    res = CliRunner().invoke(
        app, ["rank", str(root), "--weights", str(weights), "--device", "cpu", "--max-size", "0", "--out", str(out),
              "--quiet", "--batch-size", "8", "--mode", "pairs"],
        catch_exceptions=False,
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    assert doc["series_by"] == "folder" and "authors' checkpoint" in doc["model"]
    got = {s["series"]: s for s in doc["series"]}
    assert set(got) == set(series)
    for name, rec in series.items():
        ranking = got[name]["ranking"]
        assert [r["path"].rsplit("/", 1)[1] for r in ranking] == rec["ranking_best_first"], name
        by_file = {r["path"].rsplit("/", 1)[1]: r for r in ranking}
        for idx, img in rec["per_image"].items():
            r = by_file[rec["images"][idx]]
            assert r["raw_score"] == pytest.approx(img["raw_mean"], abs=1e-4)
            assert r["score"] == pytest.approx(img["adjusted"], abs=1e-4)
