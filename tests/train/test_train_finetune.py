"""Recipe 2 of docs/training.md on CPU: fine-tune a checkpoint in the authors' layout (`--init best.pt --compat`)
on ranked series through the `fgaesq train` command; the export loads and keeps the compat setting."""

from __future__ import annotations

import torch
from train_photo_series import make_series
from typer.testing import CliRunner

from fgaesq.cli import app
from fgaesq.model import authors_state_dict, create_model, load_model


def test_finetune_authors_checkpoint_via_cli(tmp_path):
    torch.manual_seed(0)
    start = create_model("fgaesq-tiny", compat=True)
    ckpt = tmp_path / "best.pt"
    torch.save(authors_state_dict(start), ckpt)  # the layout of the authors' released best.pt
    data = make_series(tmp_path / "mine", n_series=3, darken=0.3)
    out = tmp_path / "run"
    res = CliRunner().invoke(app, [
        "train", "--init", str(ckpt), "--compat", "--fine-train", str(data), "--fine-val", str(data),
        "--stage1-epochs", "0", "--coarse-per-fine", "0", "--epochs", "1", "--lr", "1e-4", "--num-workers", "0",
        "--accelerator", "cpu", "--devices", "1", "--no-progress", "--out-dir", str(out),
    ])
    assert res.exit_code == 0, res.output
    tuned = load_model(str(out / "best.safetensors"))
    assert tuned.compat is True and tuned.config.width == 64
    before, after = start.state_dict(), tuned.state_dict()
    # trained: the head moved; kept per recipe: positional table and (compat) scale embedding unchanged
    assert not torch.equal(before["iqa_head.0.weight"], after["iqa_head.0.weight"])
    assert torch.equal(before["visual.positional_embedding"], after["visual.positional_embedding"])
    assert torch.equal(before["scale_embedding"], after["scale_embedding"])
