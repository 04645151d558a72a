"""A 2-process DDP run on CPU (gloo, Lightning's launcher) completes; both processes end with identical weights."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file
from train_photo_series import make_coarse, make_series

RUNNER = """
import json, sys, torch
torch.set_num_threads(1)
import lightning as L
from safetensors.torch import save_file
from fgaesq.data.datasets import FineBatch
from fgaesq.train.config import load_config
from fgaesq.train.run import train
over, out = json.loads(sys.argv[1]), sys.argv[2]
class Dump(L.Callback):
    seen = []
    def on_train_batch_end(self, trainer, module, outputs, batch, idx):
        self.seen.append(batch.series_ids if isinstance(batch, FineBatch) else batch.target.sum(1).tolist())
    def on_train_end(self, trainer, module):
        r = trainer.global_rank
        sd = {k: v.detach().cpu().contiguous() for k, v in module.model.state_dict().items()}
        save_file(sd, f"{out}/rank{r}.safetensors")
        val = {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("val/")}
        json.dump({"world": trainer.world_size, "steps": trainer.global_step, "seen": self.seen, "val": val},
                  open(f"{out}/rank{r}.json", "w"))
train(load_config(None, over), callbacks=[Dump()], enable_model_summary=False)
"""


def test_two_process_ddp_identical_weights(tmp_path, clive_dir):
    over = dict(
        coarse_train=str(make_coarse(tmp_path / "coarse", clive_dir, 4)),
        fine_train=[str(make_series(tmp_path / "fine", n_series=4, darken=0.3))],
        fine_val=[str(tmp_path / "fine" / "series.jsonl")],
        model="fgaesq-tiny", init="random", num_workers=0, stage1_epochs=0, coarse_batch=2, fine_batch_images=2,
        epochs=1, lr=1e-3, out_dir=str(tmp_path / "run"), progress=False, accelerator="cpu", devices="2",
        strategy="ddp",
    )
    script = tmp_path / "runner.py"
    script.write_text(RUNNER)
    src = str(Path(__file__).parents[2] / "src")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, str(script), json.dumps(over), str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=400)
    assert proc.returncode == 0, proc.stderr[-3000:]
    info = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    assert all(i["world"] == 2 for i in info)
    # 4 fine batches (one series each) split over 2 ranks → 2 fine + 2 coarse steps per process
    assert info[0]["steps"] == info[1]["steps"] == 4
    fine0 = {s for b in info[0]["seen"] if isinstance(b[0], str) for s in b}
    fine1 = {s for b in info[1]["seen"] if isinstance(b[0], str) for s in b}
    assert fine0.isdisjoint(fine1) and fine0 | fine1 == {"s0", "s1", "s2", "s3"}
    # validation is sharded over the ranks and gathered: both see the metrics of all 4 series
    assert info[0]["val"] == info[1]["val"] and "val/acc" in info[0]["val"]
    assert info[0]["val"]["val/acc"] * 4 == round(info[0]["val"]["val/acc"] * 4)
    w0, w1 = (load_file(tmp_path / f"rank{r}.safetensors") for r in range(2))
    assert w0.keys() == w1.keys()
    for k in w0:
        assert torch.equal(w0[k], w1[k]), k
    # rank 0 exported the best model: with one epoch, the final weights
    best = load_file(tmp_path / "run" / "best.safetensors")
    assert all(torch.equal(best[k], w0[k]) for k in w0)
