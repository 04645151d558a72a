"""Backbone-agnostic loop: the same `fgaesq train` path trains the EfficientNet-Lite starter model (fgaesq-lite)."""

from __future__ import annotations

import torch
from train_photo_series import make_coarse, make_series

from fgaesq.train.config import load_config
from fgaesq.train.run import train


def test_lite_model_trains_through_the_loop(tmp_path, clive_dir):
    from fgaesq.model import load_model
    from fgaesq.model.lite import FGAesQLite

    cfg = load_config(None, dict(
        coarse_train=str(make_coarse(tmp_path / "coarse", clive_dir, 4)),
        fine_train=[str(make_series(tmp_path / "fine", n_series=2, darken=0.3))],
        fine_val=[str(make_series(tmp_path / "fine", n_series=2, darken=0.3))],
        model="fgaesq-lite", init="random", num_workers=0,
        stage1_epochs=0, coarse_batch=2, fine_batch_images=4, epochs=1, lr=1e-3, out_dir=str(tmp_path / "run"),
        progress=False, accelerator="cpu", devices="1", log_every=1,
    ))
    res = train(cfg, enable_model_summary=False)
    m = res["metrics"]
    assert {"train/listmle_epoch", "train/emd_epoch", "val/acc"} <= set(m)
    exported = load_model(res["exported"])
    assert isinstance(exported, FGAesQLite)
    trained = res["module"].model.state_dict()
    for k, v in exported.state_dict().items():
        assert torch.allclose(v.float(), trained[k].float().cpu()), k


def test_model_options_configure_the_new_lite_model(tmp_path, clive_dir):
    """`--options technical=2 --options 'penalties=[noise, jpeg]'`: the run trains and exports that architecture."""
    from fgaesq.model import load_model
    from fgaesq.model.lite.technical import penalty_columns

    opts = ["technical=2", "penalties=[noise, jpeg]", "desc_dropout=0.5"]
    cfg = load_config(None, dict(
        coarse_train=str(make_coarse(tmp_path / "coarse", clive_dir, 4)),
        fine_train=[str(make_series(tmp_path / "fine", n_series=2, darken=0.3))],
        model="fgaesq-lite", init="random", options=opts, num_workers=0, stage1_epochs=0, coarse_batch=2,
        fine_batch_images=4, epochs=1, lr=1e-3, out_dir=str(tmp_path / "run"), progress=False,
        accelerator="cpu", devices="1", log_every=1,
    ))  # fmt: skip
    res = train(cfg, enable_model_summary=False)
    exported = load_model(res["exported"])
    c = exported.config
    assert (c.technical, c.penalties, c.desc_dropout) == (2, penalty_columns(2, ("noise", "jpeg")), 0.5)
    assert exported.prior_w.shape == (5,)
    import pytest

    from fgaesq.train.run import build_model

    bad = load_config(None, dict(model="fgaesq-lite", init=str(res["exported"]), options=["technical=1"]))
    with pytest.raises(ValueError, match="model.options"):
        build_model(bad)
    with pytest.raises(ValueError, match="does not take"):
        build_model(load_config(None, dict(model="fgaesq-lite", init="random", options=["bogus=1"])))
    with pytest.raises(ValueError, match="KEY=VALUE"):
        build_model(load_config(None, dict(model="fgaesq-lite", init="random", options=["technical"])))


def test_penalty_weights_learn_from_fine_batches_only_when_asked(tmp_path, clive_dir):
    """`penalty_from=fine`: coarse (human-score) batches train the head but leave the penalty weights alone;
    with the default (`all`) the same coarse-only epoch moves them too."""
    import math

    from fgaesq.model import load_model
    from fgaesq.model.lite.network import PRIOR_GAIN

    coarse = str(make_coarse(tmp_path / "coarse", clive_dir, 4))
    fine = [str(make_series(tmp_path / "fine", n_series=2, darken=0.3))]
    start = math.log(math.expm1(0.125)) / PRIOR_GAIN
    moved = {}
    for source in ("fine", "all"):
        cfg = load_config(None, dict(
            coarse_train=coarse, fine_train=fine, model="fgaesq-lite", init="random", num_workers=0,
            options=["technical=3", "penalties=[jpeg, quant]", f"penalty_from={source}"], stage1_epochs=1,
            coarse_batch=2, fine_batch_images=4, epochs=1, lr=1e-2, out_dir=str(tmp_path / source), progress=False,
            accelerator="cpu", devices="1", log_every=1,
        ))  # fmt: skip
        res = train(cfg, enable_model_summary=False)  # one coarse-only epoch (stage 1): EMD batches only
        m = load_model(res["exported"])
        assert m.config.penalty_from == source
        moved[source] = float((m.prior_w.detach() - start).abs().max())
    assert moved["fine"] == 0.0
    assert moved["all"] > 1e-4
