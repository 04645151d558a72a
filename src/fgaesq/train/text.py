"""The frozen CLIP text tower used by CTAlign (training only): open_clip's text transformer and tokenizer.

Sources (`loss.text_tower`):
- `openai`      — open_clip ViT-B-16 with pretrained='openai' (downloads once into the Hugging Face cache);
- a file path   — a local copy of the OpenAI CLIP ViT-B-16 weights in open_clip's layout (.bin/.pt/.safetensors,
                  e.g. `open_clip_pytorch_model.bin` of `timm/vit_base_patch16_clip_224.openai`); built with QuickGELU
                  as OpenAI's model is;
- `tiny`        — a 2-layer, width-64 text transformer, randomly initialised (tests only: it knows no language).
The tokenizer is open_clip's (its BPE vocabulary ships inside the package, no download).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

TINY_TEXT = {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2}
_HOW = (
    "CTAlign needs the CLIP text tower: connect once so open_clip downloads pretrained='openai' (ViT-B-16), or "
    "set loss.text_tower to a local ViT-B-16 checkpoint file, or switch CTAlign off (--align-weight 0)"
)


class TextTowerError(RuntimeError):
    """The text tower could not be built or does not fit the model."""


class TextTower(nn.Module):
    """Frozen CLIP text encoder: `encode(list[str]) -> (N, E)` text embeddings (not normalised)."""

    def __init__(self, source: str, embed_dim: int) -> None:
        super().__init__()
        import open_clip

        if source == "tiny":
            clip = open_clip.CLIP(
                embed_dim=embed_dim,
                vision_cfg={"layers": 1, "width": 32, "patch_size": 16, "image_size": 32, "head_width": 32},
                text_cfg=TINY_TEXT,
            )
        else:
            pretrained = "openai" if source == "openai" else str(Path(source).expanduser())
            if pretrained != "openai" and not Path(pretrained).is_file():
                raise TextTowerError(f"{source}: no such file. {_HOW}")
            try:
                # OpenAI CLIP uses QuickGELU (open_clip sets it itself for pretrained="openai")
                kw = {} if pretrained == "openai" else {"quick_gelu": True}
                clip = open_clip.create_model("ViT-B-16", pretrained=pretrained, **kw)
            except Exception as e:  # download / checkpoint errors come in many types
                reason = str(e).splitlines()[0][:300] if str(e) else type(e).__name__
                raise TextTowerError(f"text tower {source!r} unavailable ({reason}). {_HOW}") from e
        clip.visual = None  # only the text side is kept
        out_dim = clip.text_projection.shape[-1] if clip.text_projection is not None else None
        if out_dim is not None and out_dim != embed_dim:
            raise TextTowerError(
                f"text tower {source!r} gives {out_dim}-d embeddings but the model's features are {embed_dim}-d"
            )
        self.clip = clip.eval().requires_grad_(False)
        self.source = source
        self.tokenizer = open_clip.get_tokenizer("ViT-B-16")

    def train(self, mode: bool = True) -> TextTower:
        """Always stays in eval mode (frozen)."""
        return super().train(False)

    @torch.no_grad()
    def encode(self, texts: list[str]) -> torch.Tensor:
        """(N, E) embeddings of `texts` on the tower's device."""
        device = self.clip.token_embedding.weight.device
        tokens = self.tokenizer(texts).to(device)
        return self.clip.encode_text(tokens).float()
