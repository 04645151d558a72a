"""Our checkpoints (safetensors + JSON) and load_model's sources: path, local-dir:, registry name, hf-hub:."""

from __future__ import annotations

import json
import logging

import huggingface_hub.constants
import pytest
import torch
from model_helpers import random_tokens, tiny_authors_state_dict
from safetensors.torch import load_file, save_file

from fgaesq.model import CheckpointError, create_model, load_model, save_checkpoint


@pytest.fixture
def offline(monkeypatch):
    """Hugging Face offline mode, as HF_HUB_OFFLINE=1 sets it."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)


def _same_outputs(a, b):
    toks = random_tokens(a)
    with torch.no_grad():
        return torch.equal(a(*toks).score, b(*toks).score) and torch.equal(a(*toks).features, b(*toks).features)


def test_save_and_load_round_trip(tmp_path, tiny):
    tiny.compat = True
    path = save_checkpoint(tiny, tmp_path / "run1" / "best", metadata={"epoch": 7, "data": "generated"})
    assert path.name == "best.safetensors" and (tmp_path / "run1" / "best.json").is_file()
    info = json.loads((tmp_path / "run1" / "best.json").read_text())
    assert info["format"] == "fgaesq-checkpoint" and info["config"]["name"] == "fgaesq-tiny"
    assert info["config"]["compat"] is True and info["metadata"] == {"epoch": 7, "data": "generated"}
    model = load_model(path)
    assert model.compat is True and not model.training
    assert model.checkpoint_metadata["epoch"] == 7
    assert "fgaesq checkpoint" in model.source and "best.safetensors" in model.source
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in tiny.state_dict().items())
    assert _same_outputs(tiny, model)


def test_config_overrides_survive_the_round_trip(tmp_path):
    model = create_model("fgaesq-tiny", layers=3, head_hidden=(8,), head_dropout=(0.0,))
    back = load_model(save_checkpoint(model, tmp_path / "x.safetensors"))
    assert back.config.layers == 3 and back.config.head_hidden == (8,)
    assert _same_outputs(model.eval(), back)


def test_missing_json_uses_the_header_copy_and_says_so(tmp_path, tiny):
    path = save_checkpoint(tiny, tmp_path / "m")
    (tmp_path / "m.json").unlink()
    model = load_model(path)
    assert "m.json missing" in model.load_report.summary()


def test_foreign_safetensors_without_config_is_refused(tmp_path):
    path = tmp_path / "clip.safetensors"
    save_file({"visual.conv1.weight": torch.zeros(4, 3, 16, 16)}, str(path))
    with pytest.raises(CheckpointError, match="no clip.json beside it.*load_openai_visual"):
        load_model(path)


def test_tampered_weights_are_reported(tmp_path, tiny):
    path = save_checkpoint(tiny, tmp_path / "m")
    sd = load_file(str(path))
    del sd["mask_token"]
    sd["extra"] = torch.zeros(1)
    save_file(sd, str(path))
    with pytest.raises(CheckpointError, match="missing 'mask_token'.*unexpected 'extra'"):
        load_model(path)


def test_local_dir_and_folder_paths(tmp_path, tiny):
    save_checkpoint(tiny, tmp_path / "ours" / "model")
    assert _same_outputs(tiny, load_model(f"local-dir:{tmp_path / 'ours'}"))
    assert _same_outputs(tiny, load_model(tmp_path / "ours"))
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    torch.save(tiny_authors_state_dict(), theirs / "best.pt")
    assert load_model(f"local-dir:{theirs}").load_report.layout == "authors"
    torch.save(tiny_authors_state_dict(), theirs / "other.pt")
    with pytest.raises(CheckpointError, match="expected exactly one"):
        load_model(f"local-dir:{theirs}")


def test_unknown_spec_and_name_without_weights(tmp_path):
    with pytest.raises(CheckpointError, match="neither a registered model.*fgaesq-tiny"):
        load_model(str(tmp_path / "nope.pt"))
    with pytest.raises(CheckpointError, match="fgaesq-tiny: no released weights.*create_model"):
        load_model("fgaesq-tiny")


def test_hf_hub_offline_without_cache_is_a_clear_error(tmp_path, offline):
    with pytest.raises(CheckpointError, match=r"hf-hub:someone/fgaesq-model: not available.*HF_HUB_OFFLINE"):
        load_model("hf-hub:someone/fgaesq-model", cache_dir=tmp_path)
    with pytest.raises(CheckpointError, match="not available"):
        load_model("hf-hub:someone/fgaesq-model/best.safetensors", cache_dir=tmp_path)
    # the registry name of the paper's model resolves to the authors' hub repository
    with pytest.raises(CheckpointError, match="hf-hub:yzc002/FGAesQ: not available"):
        load_model("fgaesq-vit-b-16", cache_dir=tmp_path)


def _fake_hub_cache(cache, repo):
    """The on-disk layout huggingface_hub uses for a downloaded repository snapshot."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    root = cache / ("models--" + repo.replace("/", "--"))
    (root / "refs").mkdir(parents=True)
    (root / "refs" / "main").write_text(commit)
    snap = root / "snapshots" / commit
    snap.mkdir(parents=True)
    return snap


def test_hf_hub_uses_the_local_cache_offline(tmp_path, tiny, offline, caplog):
    snap = _fake_hub_cache(tmp_path, "someone/fgaesq-tiny")
    save_checkpoint(tiny, snap / "tiny")
    with caplog.at_level(logging.INFO, logger="fgaesq.model"):
        model = load_model("hf-hub:someone/fgaesq-tiny/tiny.safetensors", cache_dir=tmp_path)
    assert _same_outputs(tiny, model)
    assert "via hf-hub:someone/fgaesq-tiny/tiny.safetensors" in model.source
    assert "loaded fgaesq-tiny (fgaesq checkpoint" in caplog.text
    whole_repo = load_model("hf-hub:someone/fgaesq-tiny", cache_dir=tmp_path)
    assert _same_outputs(tiny, whole_repo)


def test_unreachable_hub_fails_fast_and_uses_only_the_cache(tmp_path, tiny, monkeypatch):
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    with pytest.raises(CheckpointError, match="hub cannot be reached and it is not in the local cache"):
        load_model("hf-hub:someone/missing/x.safetensors", cache_dir=tmp_path)
    snap = _fake_hub_cache(tmp_path, "someone/cached")
    save_checkpoint(tiny, snap / "tiny")
    assert _same_outputs(tiny, load_model("hf-hub:someone/cached/tiny.safetensors", cache_dir=tmp_path))
    assert huggingface_hub.constants.HF_HUB_OFFLINE is False  # restored after the call
