"""Training runs that are killed, resumed or pointed at damaged checkpoints: nothing lost, one line per error."""

from __future__ import annotations

import csv
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from test_train_resume import RUNNER, _cfg
from typer.testing import CliRunner

from fgaesq.cli import app
from fgaesq.train.config import load_config
from fgaesq.train.run import train


def _steps(path: Path) -> list[int]:
    with path.open(newline="") as fh:
        return sorted({int(float(r["step"])) for r in csv.DictReader(fh) if r.get("step")})


@pytest.fixture(scope="module")
def killed_run(tmp_path_factory, clive_dir):
    tmp = tmp_path_factory.mktemp("killed")
    over = _cfg(tmp, clive_dir, "run", log_every=1)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[2] / "src"),
                                                       os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-c", RUNNER, json.dumps(over), "5", str(tmp / "log.jsonl")], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 137, proc.stderr[-2000:]
    return tmp, over


def test_resume_keeps_the_metrics_logged_before_the_kill(killed_run):
    tmp, over = killed_run
    metrics = Path(over["out_dir"]) / "logs" / "metrics.csv"
    before = _steps(metrics)
    assert before and max(before) >= 3  # flushed as it went, despite the hard kill
    train(load_config(None, {**over, "resume": "last"}), enable_model_summary=False)
    after = _steps(metrics)
    assert set(before) <= set(after) and max(after) >= 6
    assert not (metrics.parent / "metrics.before-resume.csv").exists()
    with metrics.open(newline="") as fh:
        steps = [r["step"] for r in csv.DictReader(fh) if r.get("train/loss_fine") or r.get("train/loss")]
    assert len(steps) == len(set(steps))  # no step logged twice


def _damaged(good: Path, folder: Path) -> dict[str, Path]:
    raw = good.read_bytes()
    rng = random.Random(3)
    flipped = bytearray(raw)
    for i in range(0, len(flipped), max(1, len(flipped) // 50)):
        flipped[i] ^= 0x5A
    kinds = {"empty": b"", "truncated": raw[: len(raw) // 3], "random": rng.randbytes(20000), "flipped": bytes(flipped)}
    out = {}
    for kind, body in kinds.items():
        out[kind] = folder / f"{kind}.ckpt"
        out[kind].write_bytes(body)
    return out


def test_damaged_resume_checkpoints_give_one_line_naming_the_file(killed_run):
    tmp, over = killed_run
    good = Path(over["out_dir"]) / "checkpoints" / "last.ckpt"
    for kind, path in _damaged(good, tmp).items():
        res = CliRunner().invoke(app, ["train", "--coarse-train", over["coarse_train"], "--fine-train",
                                       over["fine_train"][0], "--model", "fgaesq-tiny", "--init", "random",
                                       "--out-dir", str(tmp / f"out-{kind}"), "--resume", str(path)])
        assert res.exit_code == 2, (kind, res.output)
        lines = res.output.strip().splitlines()
        assert len(lines) == 1 and str(path) in lines[0] and "Aborted" not in res.output, (kind, res.output)
    assert not (tmp / "out-empty").exists() or not any((tmp / "out-empty").rglob("*.ckpt"))


def test_damaged_checkpoint_config_is_one_line(tmp_path):
    from fgaesq.model import create_model, load_model, save_checkpoint
    from fgaesq.model.statedict import CheckpointError

    weights = save_checkpoint(create_model("fgaesq-tiny"), tmp_path / "m.safetensors")
    cfg = weights.with_suffix(".json")
    cfg.write_bytes(b"\xff\xfe" + cfg.read_bytes()[2:])
    with pytest.raises(CheckpointError, match="m.json"):
        load_model(weights)


def test_training_output_has_no_lightning_tips_or_deprecations(tmp_path, clive_dir):
    over = _cfg(tmp_path, clive_dir, "quiet")
    args = ["--coarse-train", over["coarse_train"], "--fine-train", over["fine_train"][0], "--model", "fgaesq-tiny",
            "--init", "random", "--out-dir", over["out_dir"], "--max-steps", "2", "--epochs", "1",
            "--stage1-epochs", "1", "--coarse-batch", "2", "--fine-batch-images", "2", "--num-workers", "0",
            "--accelerator", "cpu", "--devices", "1", "--no-progress"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[2] / "src"),
                                                       os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-m", "fgaesq.cli", "train", *args], env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    noise = [ln for ln in proc.stderr.splitlines()
             if any(w in ln for w in ("Tip", "litmodels", "LitLogger", "DeprecationWarning", "FutureWarning",
                                      "GPU available", "TPU available", "does not have many workers"))]
    assert not noise, noise
