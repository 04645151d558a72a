"""A model trained with `fgaesq train` (fgaesq-lite and fgaesq-tiny) is used unchanged by rank, score and eval."""

from __future__ import annotations

import json

import pytest
import yaml
from train_photo_series import make_coarse, make_series
from typer.testing import CliRunner

from fgaesq.cli import app
from fgaesq.model import load_model
from fgaesq.scoring import load_scorer

runner = CliRunner()


@pytest.fixture(scope="module")
def data(tmp_path_factory, clive_dir):
    root = tmp_path_factory.mktemp("trained")
    fine = make_series(root / "fine", n_series=2, darken=0.3)
    return {"root": root, "fine": fine, "coarse": make_coarse(root / "coarse", clive_dir, 4)}


def _train(data, model: str, name: str):
    out = data["root"] / name
    cfg = out.with_suffix(".yaml")
    cfg.write_text(yaml.safe_dump({
        "data": {"fine_train": [str(data["fine"])], "coarse_train": str(data["coarse"]), "stage1_epochs": 0,
                 "coarse_batch": 2, "fine_batch_images": 4, "num_workers": 0},
        "model": {"model": model, "init": "random", "seq_len": 256},
        "loss": {"align_weight": 0.0},
        "trainer": {"epochs": 1, "max_steps": 2, "accelerator": "cpu", "devices": "1", "progress": False},
    }))
    res = runner.invoke(app, ["train", "--config", str(cfg), "--out-dir", str(out)])
    assert res.exit_code == 0, res.output
    return out / "best.safetensors"


@pytest.mark.parametrize("model", ["fgaesq-lite", "fgaesq-tiny"])
def test_trained_checkpoint_is_used_by_rank_score_and_eval(data, model, tmp_path):
    weights = _train(data, model, model)
    info = json.loads(weights.with_suffix(".json").read_text())
    assert info["model"] == model and info["preprocess"]["max_size"] in (512, 2048)
    if model == "fgaesq-tiny":  # the token budget it was trained with travels in the checkpoint
        assert info["tokenizer"]["seq_len"] == 256 and load_model(weights).config.seq_len == 256
    photos = data["fine"].parent

    res = runner.invoke(app, ["score", str(photos), "--weights", str(weights), "--json", "--device", "cpu"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["errors"] == [] and len(doc["images"]) == 4 and all(1 <= r["score"] <= 10 for r in doc["images"])
    direct = load_scorer(weights, device="cpu").score([photos / r["path"].rsplit("/", 1)[-1] for r in doc["images"]])
    assert [round(r["score"], 4) for r in doc["images"]] == pytest.approx([round(float(s), 4) for s in direct],
                                                                          abs=1e-3)

    res = runner.invoke(app, ["rank", str(photos), "--weights", str(weights), "--series-by", "folder", "--json",
                              "--device", "cpu"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["summary"]["images"] == 4

    out = tmp_path / "eval.json"
    res = runner.invoke(app, ["eval", "--data", str(data["fine"]), "--weights", str(weights), "--out", str(out),
                              "--quiet", "--device", "cpu"])
    assert res.exit_code == 0, res.output
    result = json.loads(out.read_text())
    assert model in result["model"] and 0.0 <= result["summary"]["pair"] <= 1.0

    # the same checkpoint starts a new run through --init (no factory needed, nothing silently ignored)
    again = data["root"] / f"{model}-again.yaml"
    again.write_text(data["root"].joinpath(f"{model}.yaml").read_text().replace("init: random", f"init: {weights}"))
    res = runner.invoke(app, ["train", "--config", str(again), "--out-dir", str(data["root"] / f"{model}-again")])
    assert res.exit_code == 0, res.output
    assert f"{model} (fgaesq checkpoint, local file {weights})" in " ".join(res.output.split())
