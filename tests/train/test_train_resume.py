"""Kill a run (hard exit, mid-epoch, in the alternating stage) and resume: same next-step losses as uninterrupted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import lightning as L
from train_photo_series import make_coarse, make_series

from fgaesq.train.config import load_config
from fgaesq.train.run import train

RUNNER = """
import json, os, sys, torch
torch.set_num_threads(1)
import lightning as L
from fgaesq.train.config import load_config
from fgaesq.train.run import train
over, kill_at, log = json.loads(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
class Kill(L.Callback):
    def on_train_batch_end(self, trainer, module, outputs, batch, idx):
        with open(log, "a") as f:
            f.write(json.dumps({"step": trainer.global_step, "loss": float(outputs["loss"])}) + "\\n")
        if trainer.global_step == kill_at:
            os._exit(137)  # no teardown, like a kill
train(load_config(None, over), callbacks=[Kill()], enable_model_summary=False)
"""


class Record(L.Callback):
    def __init__(self) -> None:
        self.losses: dict[int, float] = {}

    def on_train_batch_end(self, trainer, module, outputs, batch, idx):
        self.losses[trainer.global_step] = float(outputs["loss"])


def _cfg(tmp_path: Path, clive_dir: Path, out: str, **kw) -> dict:
    return dict(
        coarse_train=str(make_coarse(tmp_path / "coarse", clive_dir, 4)),
        fine_train=[str(make_series(tmp_path / "fine", n_series=4, darken=0.3))],
        model="fgaesq-tiny", init="random", num_workers=0, stage1_epochs=1, coarse_batch=2, fine_batch_images=2,
        epochs=3, max_steps=7, lr=1e-3, out_dir=str(tmp_path / out), progress=False, accelerator="cpu",
        devices="1", ckpt_every_steps=1, **kw,
    )


def test_kill_and_resume_matches_uninterrupted(tmp_path, clive_dir):
    ref = Record()
    train(load_config(None, _cfg(tmp_path, clive_dir, "full")), callbacks=[ref], enable_model_summary=False)
    assert sorted(ref.losses) == list(range(1, 8))  # 2 coarse steps (stage 1), then f/c alternating

    over = _cfg(tmp_path, clive_dir, "killed")
    log = tmp_path / "killed.jsonl"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[2] / "src"), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-c", RUNNER, json.dumps(over), "5", str(log)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 137, proc.stderr[-2000:]
    before = [json.loads(x) for x in log.read_text().splitlines()]
    assert [r["step"] for r in before] == [1, 2, 3, 4, 5]
    for r in before:  # the killed run itself followed the reference
        assert abs(r["loss"] - ref.losses[r["step"]]) < 1e-6

    resumed = Record()
    train(load_config(None, {**over, "resume": "last"}), callbacks=[resumed], enable_model_summary=False)
    first = min(resumed.losses)
    assert first in (5, 6)  # the step in flight when killed is redone if its checkpoint was not written
    for step, loss in resumed.losses.items():
        assert abs(loss - ref.losses[step]) < 1e-6, (step, loss, ref.losses[step])
    assert max(resumed.losses) == 7
