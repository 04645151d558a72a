"""fgaesq-lite head ensembles (config ``members``): one backbone pass, the members' bin distributions averaged."""

from __future__ import annotations

import json

import pytest
import torch

from fgaesq.model import load_model, save_checkpoint
from fgaesq.model.lite import FGAesQLite, LiteConfig


def _member(seed: int, cfg: LiteConfig) -> FGAesQLite:
    torch.manual_seed(seed)
    net = FGAesQLite(cfg, pretrained_backbone=False)
    net.set_normalisation(torch.randn(40, cfg.desc_dim) * (1 + seed) + seed)  # each member its own statistics
    return net.eval()


@pytest.fixture(scope="module")
def members() -> list[FGAesQLite]:
    return [_member(s, LiteConfig()) for s in range(3)]


def test_ensemble_averages_the_members_distributions(members):
    ens = FGAesQLite.ensemble(members)
    assert ens.config.members == 3 and len(ens.members) == 2
    desc = torch.randn(6, ens.config.desc_dim) * 2 + 1
    with torch.no_grad():
        outs = [m.forward_desc(desc) for m in members]
        got = ens.forward_desc(desc)
    probs = torch.stack([o.logits.softmax(-1) for o in outs]).mean(0)
    torch.testing.assert_close(got.logits.softmax(-1), probs)
    torch.testing.assert_close(got.score, torch.stack([o.score for o in outs]).mean(0))
    torch.testing.assert_close(got.features, torch.stack([o.features for o in outs]).mean(0))
    # not the same as any one member: the members' own standardisation is used
    assert all((got.score - o.score).abs().max() > 1e-4 for o in outs)


def test_ensemble_checkpoint_round_trip(members, tmp_path):
    ens = FGAesQLite.ensemble(members)
    path = save_checkpoint(ens, tmp_path / "ens.safetensors")
    info = json.loads(path.with_suffix(".json").read_text())
    assert info["config"]["members"] == 3
    back = load_model(path)
    desc = torch.randn(4, ens.config.desc_dim)
    with torch.no_grad():
        torch.testing.assert_close(back.forward_desc(desc).score, ens.forward_desc(desc).score)


def test_one_head_checkpoints_load_unchanged(members, tmp_path):
    """A checkpoint written before ensembles (no ``members`` key, no ``members.*`` tensors) loads as one head."""
    one = members[0]
    path = save_checkpoint(one, tmp_path / "one.safetensors")
    info_path = path.with_suffix(".json")
    info = json.loads(info_path.read_text())
    del info["config"]["members"]
    info_path.write_text(json.dumps(info))
    back = load_model(path)
    assert back.config.members == 1 and len(back.members) == 0
    desc = torch.randn(4, one.config.desc_dim)
    with torch.no_grad():
        torch.testing.assert_close(back.forward_desc(desc).score, one.forward_desc(desc).score)
    old = load_model("fgaesq-lite")  # the shipped lite-2 weights have neither key
    assert old.config.members == 1 and not any(k.startswith("members.") for k in old.state_dict())


def test_ensemble_refuses_mismatched_members(members):
    other = _member(0, LiteConfig(technical=0))
    with pytest.raises(ValueError):
        FGAesQLite.ensemble([members[0], other])
    with pytest.raises(ValueError):
        FGAesQLite.ensemble([FGAesQLite.ensemble(members[:2]), members[2]])
    with pytest.raises(ValueError):
        LiteConfig.from_dict({"members": 0})
