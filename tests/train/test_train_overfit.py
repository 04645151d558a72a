"""End to end on CPU: 8 small real-photo series, tiny model, RankReg only → pair accuracy 1.0; export loads."""

from __future__ import annotations

import json

import numpy as np
import torch
from train_photo_series import make_series

from fgaesq.data import read_fine
from fgaesq.model import load_model
from fgaesq.train.config import load_config
from fgaesq.train.inputs import input_builder_for
from fgaesq.train.run import train


def test_overfits_eight_series_and_exports(tmp_path):
    data = make_series(tmp_path / "data", n_series=8, blurs=(0.0, 2.0), darken=0.5)
    out = tmp_path / "run"
    cfg = load_config(None, dict(
        fine_train=[str(data)], fine_val=[str(data)], model="fgaesq-tiny", init="random", num_workers=0,
        epochs=6, val_every=6, lr=2e-3, fine_batch_images=8, out_dir=str(out), progress=False,
        accelerator="cpu", devices="1", log_every=1,
    ))
    res = train(cfg, enable_model_summary=False)
    m = res["metrics"]
    assert m["val/acc"] == 1.0 and m["val/natural/s_acc"] == 1.0
    assert m["train/listmle_epoch"] < 0.35  # from log 2 ≈ 0.69 at the start
    # CSV log has the per-step losses; both checkpoints exist
    metrics_csv = (out / "logs" / "metrics.csv").read_text()
    assert "train/listmle_step" in metrics_csv
    assert (out / "checkpoints" / "last.ckpt").is_file() and res["best_checkpoint"]
    assert any((out / "tensorboard").iterdir())
    # the exported best model is our safetensors + JSON and ranks the series with pair-mode tokens
    exported = out / "best.safetensors"
    assert exported.is_file() and json.loads((out / "best.json").read_text())["metadata"]["trained_with"] == "fgaesq train"
    model = load_model(str(exported))
    builder = input_builder_for(model)
    rng = np.random.default_rng(0)
    for rec in read_fine(data):
        from fgaesq.io import load_image

        a, b = (load_image(p) for p in rec.images)
        with torch.no_grad():
            s = model(builder.collate(list(builder.build_pair(a, b, rng)))).score
        assert s[0] > s[1], rec.series
