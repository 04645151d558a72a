"""The FGAesQ network: open_clip's CLIP ViT image tower fed with DiffToken sequences, plus the score head."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from open_clip.transformer import QuickGELU, VisionTransformer
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from fgaesq.model.config import ModelConfig


@dataclass
class FGAesQOutput:
    """Model outputs for a batch of B token sequences."""

    features: Tensor  # (B, E) projected CLS feature (not L2-normalised)
    logits: Tensor  # (B, num_bins) head logits
    score: Tensor  # (B,) expected bin index, in [1, num_bins]


def split_mask(mask: Tensor) -> tuple[Tensor, Tensor]:
    """Turn the authors' float mask (0 coarse/native, 1 fine, 9 padding) into (scale int64, pad bool)."""
    return (mask == 1).long(), mask == 9


def _block_forward(blk: nn.Module, x: Tensor, key_padding_mask: Tensor | None) -> Tensor:
    """One pre-norm residual block of open_clip's tower, with an optional key padding mask."""
    h = blk.ln_1(x)
    a = blk.attn(h, h, h, need_weights=False, key_padding_mask=key_padding_mask)[0]
    x = x + blk.ls_1(a)
    return x + blk.ls_2(blk.mlp(blk.ln_2(x)))


class FGAesQ(nn.Module):
    """FGAesQ: CLIP ViT over DiffToken sequences -> 512-d feature, 10 logits and a score in [1, 10].

    `compat=True` reproduces the authors' checkpoint behaviour (padding tokens take part in attention);
    `compat=False` masks padding out of attention and drops trailing padding from the computation.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.visual = VisionTransformer(
            image_size=config.image_size,
            patch_size=config.patch_size,
            width=config.width,
            layers=config.layers,
            heads=config.heads,
            mlp_ratio=config.mlp_ratio,
            output_dim=config.embed_dim,
            act_layer=QuickGELU,
        )
        self.scale_embedding = nn.Parameter(torch.randn(1, config.scales, config.width) * 0.02)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, config.width))
        layers: list[nn.Module] = []
        dim = config.embed_dim
        for hidden, p in zip(config.head_hidden, config.head_dropout, strict=True):
            layers += [nn.Linear(dim, hidden), nn.ReLU(), nn.Dropout(p)]
            dim = hidden
        layers.append(nn.Linear(dim, config.num_bins))
        self.iqa_head = nn.Sequential(*layers)
        self.register_buffer("bins", torch.arange(1, config.num_bins + 1, dtype=torch.float32), persistent=False)
        self.compat = bool(config.compat)
        self.grad_checkpointing = False
        self.source = f"{config.name} (random init)"
        self.load_report: Any = None

    # ----------------------------------------------------------------- properties
    @property
    def embed_dim(self) -> int:
        """Size of the projected feature (512 for ViT-B/16)."""
        return self.config.embed_dim

    @property
    def width(self) -> int:
        """Transformer width D (size of positional rows)."""
        return self.config.width

    @property
    def pos_source(self) -> Tensor:
        """The (1 + g*g, D) positional table (CLS row first) that the tokenizer interpolates."""
        return self.visual.positional_embedding.detach()

    def set_grad_checkpointing(self, enable: bool = True) -> None:
        """Recompute block activations in backward to save memory."""
        self.grad_checkpointing = enable

    # ----------------------------------------------------------------- forward
    @staticmethod
    def _unpack(batch: Any, pos: Tensor | None, scale: Tensor | None, pad: Tensor | None):
        if pos is None and hasattr(batch, "patches"):
            return batch.patches, batch.pos, batch.scale, batch.pad
        if pos is None or scale is None or pad is None:
            raise TypeError("FGAesQ expects (patches, pos, scale, pad) or a TokenBatch")
        return batch, pos, scale, pad

    def _check(self, patches: Tensor, pos: Tensor, scale: Tensor, pad: Tensor) -> None:
        p, d = self.config.patch_size, self.config.width
        if patches.dim() != 5 or tuple(patches.shape[2:]) != (3, p, p):
            raise ValueError(f"patches must be (B, L, 3, {p}, {p}), got {tuple(patches.shape)}")
        b, n = patches.shape[:2]
        if tuple(pos.shape) != (b, n, d):
            raise ValueError(f"pos must be (B, L, D) = ({b}, {n}, {d}), got {tuple(pos.shape)}")
        if tuple(scale.shape) != (b, n) or tuple(pad.shape) != (b, n):
            raise ValueError(f"scale and pad must be (B, L) = ({b}, {n}), got {tuple(scale.shape)}, {tuple(pad.shape)}")

    def embed_tokens(self, patches: Tensor, pos: Tensor, scale: Tensor, pad: Tensor) -> Tensor:
        """The sequence fed to `ln_pre`: patch embedding (mask token on padding) + scale embedding, CLS, + pos."""
        self._check(patches, pos, scale, pad)
        b, n = patches.shape[:2]
        w = self.visual.conv1.weight
        flat = patches[:, 1:].reshape(b, n - 1, -1).to(w.dtype)
        e = flat @ w.reshape(w.shape[0], -1).t()
        pad_t = pad[:, 1:].to(torch.bool)
        e = torch.where(pad_t.unsqueeze(-1), self.mask_token.to(e.dtype), e)
        idx = scale[:, 1:].long().masked_fill(pad_t, 0)
        e = e + self.scale_embedding[0][idx]
        cls = self.visual.class_embedding.to(e.dtype).expand(b, 1, -1)
        return torch.cat([cls, e], dim=1) + pos.to(e.dtype)

    def forward(
        self,
        patches: Any,
        pos: Tensor | None = None,
        scale: Tensor | None = None,
        pad: Tensor | None = None,
        *,
        compat: bool | None = None,
    ) -> FGAesQOutput:
        """Score a token batch: `model(patches, pos, scale, pad)` or `model(token_batch)`."""
        patches, pos, scale, pad = self._unpack(patches, pos, scale, pad)
        compat = self.compat if compat is None else compat
        pad = pad.to(torch.bool)
        kpm = None
        if not compat:
            real_cols = (~pad).any(dim=0)
            real_cols[0] = True
            n = int(real_cols.nonzero().max()) + 1
            patches, pos, scale, pad = patches[:, :n], pos[:, :n], scale[:, :n], pad[:, :n]
            if bool(pad.any()):
                kpm = pad.clone()
                kpm[:, 0] = False
        x = self.visual.ln_pre(self.embed_tokens(patches, pos, scale, pad))
        for blk in self.visual.transformer.resblocks:
            if self.grad_checkpointing and torch.is_grad_enabled():
                x = checkpoint(_block_forward, blk, x, kpm, use_reentrant=False)
            else:
                x = _block_forward(blk, x, kpm)
        features = self.visual.ln_post(x[:, 0]) @ self.visual.proj
        logits = self.iqa_head(features)
        probs = torch.softmax(logits.float(), dim=-1)
        return FGAesQOutput(features=features, logits=logits, score=(probs * self.bins).sum(-1))

    def extra_repr(self) -> str:
        return f"config={self.config.name}, compat={self.compat}"

