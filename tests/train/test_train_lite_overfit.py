"""fgaesq-lite trains through the project's training loop (fgaesq.train) and exports loadable weights."""

from __future__ import annotations

import csv
import json

import skimage.data

from fgaesq.evaluate.known_order import make_series, prepare_photo
from fgaesq.model import load_model
from fgaesq.model.lite import FGAesQLite
from fgaesq.train.config import load_config
from fgaesq.train.run import train


def test_lite_overfits_known_order_series_through_fgaesq_train(tmp_path, clive_dir, monkeypatch):
    monkeypatch.setenv("FGAESQ_LITE_CACHE", str(tmp_path / "cache"))
    photo = prepare_photo(skimage.data.chelsea())[:256, :256]
    recs = [make_series("unit/cat", photo, fam, 0, tmp_path / "fine") for fam in ("noise", "defocus", "colour")]
    (tmp_path / "fine" / "s.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    with (clive_dir / "labels.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))[:40]
    with (tmp_path / "coarse.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["image", "mos", "mos_std"])
        w.writeheader()
        w.writerows(rows)
    cfg = load_config(None)
    d, m = cfg.data, cfg.model
    d.coarse_train, d.coarse_images = str(tmp_path / "coarse.csv"), str(clive_dir / "images")
    d.fine_train = d.fine_val = [str(tmp_path / "fine" / "s.jsonl")]
    d.coarse_batch, d.stage1_epochs, d.num_workers = 40, 1, 0
    m.model, m.init = "fgaesq-lite", "random"
    cfg.loss.align_weight = 0.0
    cfg.optim.lr, cfg.optim.weight_decay = 2e-4, 0.05  # as benchmarks/known_order/lite_run.yaml
    cfg.trainer.epochs, cfg.trainer.accelerator, cfg.trainer.devices = 6, "cpu", "1"
    cfg.trainer.out_dir, cfg.trainer.progress = str(tmp_path / "run"), False
    result = train(cfg)
    # RankReg ran on the fine batches (uniform scores: ~2.7). The margin after 6 epochs depends on the random
    # init and the descriptor layout (technical block v1: ~1.64; the same run with that block zeroed: ~1.54;
    # without it: ~1.22); the ordering itself is checked next.
    assert result["metrics"]["train/listmle"] < 2.0
    assert result["metrics"]["val/acc"] == 1.0  # every pair of the training series ordered
    model = load_model(result["exported"])
    assert isinstance(model, FGAesQLite)
    assert bool(model.norm_ready)  # standardisation was set from the first training batch
