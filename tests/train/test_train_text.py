"""The frozen CLIP text tower: local OpenAI-layout weights load exactly; it stays frozen; size mismatch is refused."""

from __future__ import annotations

import open_clip
import pytest
import torch
from safetensors.torch import save_file

from fgaesq.train.text import TextTower, TextTowerError


def test_local_openai_layout_file_matches_open_clip(tmp_path):
    torch.manual_seed(0)
    ref = open_clip.create_model("ViT-B-16", pretrained=None, quick_gelu=True).eval()
    f = tmp_path / "open_clip_model.safetensors"
    save_file({k: v.contiguous() for k, v in ref.state_dict().items()}, str(f))
    tower = TextTower(str(f), 512)
    texts = ["the left photo is sharper", "better composition, the horizon is level"]
    with torch.no_grad():
        expect = ref.encode_text(open_clip.get_tokenizer("ViT-B-16")(texts))
    torch.testing.assert_close(tower.encode(texts), expect, rtol=0, atol=1e-5)
    assert not any(p.requires_grad for p in tower.parameters())
    tower.train()
    assert not tower.training
    with pytest.raises(TextTowerError, match="512-d embeddings but the model's features are 32-d"):
        TextTower(str(f), 32)
    with pytest.raises(TextTowerError, match="no such file"):
        TextTower(str(tmp_path / "missing.bin"), 512)
