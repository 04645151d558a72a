"""OpenAI CLIP image weights as a training start: local files in three layouts, and the offline error."""

from __future__ import annotations

import huggingface_hub.constants
import open_clip
import pytest
import torch
from safetensors.torch import save_file

from fgaesq.model import OpenAIWeightsError, create_model, load_openai_visual


def _small_clip(width: int = 64) -> open_clip.CLIP:
    """A real open_clip CLIP (QuickGELU, OpenAI key names) at the tiny model's size."""
    torch.manual_seed(11)
    return open_clip.CLIP(
        embed_dim=32,
        vision_cfg=open_clip.CLIPVisionCfg(layers=2, width=width, head_width=32, patch_size=16, image_size=224),
        text_cfg=open_clip.CLIPTextCfg(context_length=16, vocab_size=100, width=32, heads=2, layers=1),
        quick_gelu=True,
    )


def _assert_tower_equal(model, clip):
    for k, v in clip.visual.state_dict().items():
        assert torch.equal(model.visual.state_dict()[k], v), k


def test_openai_layout_state_dict(tmp_path):
    clip = _small_clip()
    path = tmp_path / "ViT-tiny.pt"
    torch.save(clip.state_dict(), path)  # visual.* + text tower, as OpenAI's model.state_dict()
    model = create_model("fgaesq-tiny")
    head_before = model.iqa_head[0].weight.clone()
    report = load_openai_visual(model, path)
    _assert_tower_equal(model, clip)
    assert torch.equal(model.iqa_head[0].weight, head_before)  # head stays initialised
    assert report.loaded == 32 and "ignored" in report.summary()
    assert "OpenAI CLIP image tower from local file" in model.source


def test_open_clip_training_checkpoint(tmp_path):
    clip = _small_clip()
    ckpt = {"epoch": 3, "name": "run", "state_dict": {"module." + k: v for k, v in clip.state_dict().items()}}
    path = tmp_path / "epoch_3.pt"
    torch.save(ckpt, path)
    model = create_model("fgaesq-tiny")
    report = load_openai_visual(model, path)
    _assert_tower_equal(model, clip)
    assert any("'module.' prefix" in n for n in report.notes)


def test_safetensors_file_and_tower_equivalence(tmp_path):
    clip = _small_clip().eval()
    path = tmp_path / "open_clip_model.safetensors"
    save_file({k: v.contiguous() for k, v in clip.state_dict().items()}, str(path))
    model = create_model("fgaesq-tiny").eval()
    load_openai_visual(model, path)
    _assert_tower_equal(model, clip)
    assert torch.equal(model.pos_source, clip.visual.positional_embedding)


def test_wrong_size_weights_are_refused(tmp_path):
    path = tmp_path / "wide.pt"
    torch.save(_small_clip(width=96).state_dict(), path)
    with pytest.raises(OpenAIWeightsError, match="do not fit model fgaesq-tiny.*fgaesq-vit-b-16"):
        load_openai_visual(create_model("fgaesq-tiny"), path)


def test_file_without_an_image_tower_is_refused(tmp_path):
    path = tmp_path / "text.pt"
    torch.save({"token_embedding.weight": torch.zeros(3, 2)}, path)
    with pytest.raises(OpenAIWeightsError, match="no CLIP image tower"):
        load_openai_visual(create_model("fgaesq-tiny"), path)


def test_offline_without_a_file_names_both_options(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(OpenAIWeightsError) as err:
        load_openai_visual(create_model("fgaesq-tiny"), cache_dir=tmp_path)
    msg = str(err.value)
    assert "could not be fetched" in msg
    assert "connect to the internet" in msg and "pretrained='openai'" in msg
    assert "pass a local file" in msg
