"""Helpers shared by the model tests (generated tensors and golden-case readers)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from fgaesq.model import FGAesQ, sinhash_authors_state_dict, split_mask

GOLDEN_SINGLE = ("s1_astronaut_224x224", "s3_chelsea_300x200", "l1_motorcycle_1024x768")


def text_tower_stub(width: int = 32) -> dict[str, torch.Tensor]:
    """A few text-tower tensors under the authors' `clip_model.*` names (small, generated)."""
    g = torch.Generator().manual_seed(7)
    return {
        "clip_model.token_embedding.weight": torch.randn(50, width, generator=g),
        "clip_model.positional_embedding": torch.randn(77, width, generator=g),
        "clip_model.transformer.resblocks.0.attn.in_proj_weight": torch.randn(3 * width, width, generator=g),
        "clip_model.transformer.resblocks.0.ln_1.weight": torch.ones(width),
        "clip_model.ln_final.weight": torch.ones(width),
        "clip_model.text_projection": torch.randn(width, width, generator=g),
        "clip_model.logit_scale": torch.tensor(4.6052),
    }


def tiny_authors_state_dict() -> dict[str, torch.Tensor]:
    """fgaesq-tiny sinhash weights in the authors' layout, with aliases and a small text tower."""
    sd = sinhash_authors_state_dict("fgaesq-tiny")
    sd.update(text_tower_stub())
    return sd


def random_tokens(model: FGAesQ, batch: int = 2, length: int = 64, n_real=(40, 23), seed: int = 0):
    """A token batch (patches, pos, scale, pad) with some fine tokens and trailing padding."""
    g = torch.Generator().manual_seed(seed)
    p, d = model.config.patch_size, model.config.width
    patches = torch.randn(batch, length, 3, p, p, generator=g)
    pos = torch.randn(batch, length, d, generator=g) * 0.05
    scale = (torch.rand(batch, length, generator=g) < 0.2).long()
    pad = torch.zeros(batch, length, dtype=torch.bool)
    patches[:, 0] = 0
    scale[:, 0] = 0
    for b in range(batch):
        n = n_real[b % len(n_real)]
        pad[b, n:] = True
        patches[b, n:] = 0
        pos[b, n:] = 0
        scale[b, n:] = 0
    return patches, pos, scale, pad


def golden_tokens(golden_dir: Path, case: str):
    """(patches, pos, scale, pad) batch of 1 and the recorded arrays for a golden case ('pair_2_1_2:img1' too)."""
    if case.startswith("pair_"):
        name, img = case.split(":")
        data = np.load(golden_dir / "pairs" / f"{name}.npz")
        rec = {k[len(img) + 1 :]: data[k] for k in data.files if k.startswith(img + "_")}
    else:
        data = np.load(golden_dir / "single" / f"{case}.npz")
        rec = {k: data[k] for k in data.files}
    scale, pad = split_mask(torch.from_numpy(rec["masks"])[None])
    return (torch.from_numpy(rec["patches"])[None], torch.from_numpy(rec["pos_embeds"])[None], scale, pad), rec
