"""Helpers shared by the model tests (generated tensors and golden-case readers)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from fgaesq.model import FGAesQ, split_mask
from fgaesq.tokenize import DiffTokenizer
from golden_compare import compare_tokens, forced_decisions
from sinhash import sinhash_authors_state_dict

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
    """(patches, pos, scale, pad) batch of 1 and the recorded arrays for a golden case ('pair_2_1_2:img1' too).

    Where the record keeps only checksums (the trimmed set stores full tensors for one case), the tokens are
    rebuilt by our tokenizer from the recorded image and decisions, and checked against the record first.
    """
    if case.startswith("pair_"):
        name, img = case.split(":")
        data = np.load(golden_dir / "pairs" / f"{name}.npz")
        rec = {k[len(img) + 1 :]: data[k] for k in data.files if k.startswith(img + "_")}
    else:
        data = np.load(golden_dir / "single" / f"{case}.npz")
        rec = {k: data[k] for k in data.files}
    scale, pad = split_mask(torch.from_numpy(rec["masks"])[None])
    if "patches" in rec and "pos_embeds" in rec:
        return (torch.from_numpy(rec["patches"])[None], torch.from_numpy(rec["pos_embeds"])[None], scale, pad), rec
    tokens = _rebuild_tokens(golden_dir, case, rec)
    assert compare_tokens(tokens, rec) == []
    return (tokens.patches[None], tokens.pos[None], scale, pad), rec


def _rebuild_tokens(golden_dir: Path, case: str, rec: dict):
    """Our tokenizer's output for a golden case, every random decision taken from the record."""
    manifest = json.loads((golden_dir / "manifest.json").read_text())
    with np.load(golden_dir / "pos_interp.npz") as z:
        tokenizer = DiffTokenizer(torch.from_numpy(z["positional_embedding"]))
    if not case.startswith("pair_"):
        meta = manifest["single"][case]
        forced = {k: v for k, v in forced_decisions(rec).items() if k != "fills"}
        return tokenizer.single(Image.open(golden_dir / meta["image"]), seed=12345, **forced)
    name, img = case.split(":")
    pid = name[len("pair_"):]
    s, i, j = pid.split("_")
    data = np.load(golden_dir / "pairs" / f"{name}.npz")
    full = {k: data[k] for k in data.files}
    d1, d2 = forced_decisions(full, "img1_"), forced_decisions(full, "img2_")
    t1, t2 = tokenizer.pair(
        Image.open(golden_dir / "images" / f"series{s}_{i}.webp"),
        Image.open(golden_dir / "images" / f"series{s}_{j}.webp"),
        pair_id=pid, alignment=manifest["pairs"][pid]["alignment"],
        fills=(d1["fills"], d2["fills"]), fine_cells=(d1.get("fine_cells"), d2.get("fine_cells")),
        kept_index=(d1.get("kept_index"), d2.get("kept_index")),
    )
    return t1 if img == "img1" else t2
