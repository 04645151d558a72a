"""Token containers shared with the model: `Tokens` (one image) and `TokenBatch` (a stack of them)."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

PAD_MASK_VALUE = 9.0


@dataclass
class Tokens:
    """One image's token sequence of fixed length L (slot 0 = CLS placeholder)."""

    patches: torch.Tensor  # (L, 3, 16, 16) float32, CLIP-normalised; CLS and padding slots are zero
    pos: torch.Tensor  # (L, D) float32 positional rows; padding rows are zero
    scale: torch.Tensor  # (L,) int64: 1 = fine token, 0 otherwise
    pad: torch.Tensor  # (L,) bool: True on padding slots
    info: dict = field(default_factory=dict)  # provenance and decisions (see docs/tokenizer.md)

    def mask(self) -> torch.Tensor:
        """The authors' float mask: 0 (scale 0), 1 (fine), 9 (padding)."""
        m = self.scale.to(torch.float32)
        return torch.where(self.pad, torch.full_like(m, PAD_MASK_VALUE), m)

    def __len__(self) -> int:
        return int(self.scale.shape[0])

    def to(self, device: torch.device | str, dtype: torch.dtype | None = None) -> Tokens:
        """Move the tensors (and cast the float ones if `dtype` is given)."""
        return Tokens(
            patches=self.patches.to(device=device, dtype=dtype or self.patches.dtype),
            pos=self.pos.to(device=device, dtype=dtype or self.pos.dtype),
            scale=self.scale.to(device),
            pad=self.pad.to(device),
            info=self.info,
        )


@dataclass
class TokenBatch:
    """A batch of token sequences with a leading batch dimension B."""

    patches: torch.Tensor  # (B, L, 3, 16, 16)
    pos: torch.Tensor  # (B, L, D)
    scale: torch.Tensor  # (B, L) int64
    pad: torch.Tensor  # (B, L) bool
    infos: list[dict] = field(default_factory=list)

    def mask(self) -> torch.Tensor:
        """The authors' float mask (B, L): 0, 1 or 9."""
        m = self.scale.to(torch.float32)
        return torch.where(self.pad, torch.full_like(m, PAD_MASK_VALUE), m)

    def __len__(self) -> int:
        return int(self.scale.shape[0])

    def to(self, device: torch.device | str, dtype: torch.dtype | None = None) -> TokenBatch:
        """Move the batch to `device`; `dtype` casts patches and positional rows."""
        return TokenBatch(
            patches=self.patches.to(device=device, dtype=dtype or self.patches.dtype),
            pos=self.pos.to(device=device, dtype=dtype or self.pos.dtype),
            scale=self.scale.to(device),
            pad=self.pad.to(device),
            infos=self.infos,
        )


def collate_tokens(items: list[Tokens]) -> TokenBatch:
    """Stack token sequences of equal length into a TokenBatch."""
    if not items:
        raise ValueError("collate_tokens needs at least one Tokens item")
    lengths = {len(t) for t in items}
    if len(lengths) != 1:
        raise ValueError(f"all token sequences must have the same length, got {sorted(lengths)}")
    return TokenBatch(
        patches=torch.stack([t.patches for t in items]),
        pos=torch.stack([t.pos for t in items]),
        scale=torch.stack([t.scale for t in items]),
        pad=torch.stack([t.pad for t in items]),
        infos=[t.info for t in items],
    )
