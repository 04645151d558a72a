"""Deterministic "sinhash" stand-in weights (see tests/golden/README.md), for parity tests without real weights.

Keys follow OpenAI CLIP's visual-tower names without prefix, plus the eight FGAesQ keys; ``k`` is a key's
position in sorted order, and element j of key k is a float64 sine hash, scaled per rule and rounded to float32.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from fgaesq.model.config import ModelConfig, get_config

FGAESQ_KEYS = (
    "scale_embedding",
    "mask_token",
    "iqa_head.0.weight",
    "iqa_head.0.bias",
    "iqa_head.3.weight",
    "iqa_head.3.bias",
    "iqa_head.6.weight",
    "iqa_head.6.bias",
)
_LN_SUFFIXES = ("ln_pre.weight", "ln_post.weight", "ln_1.weight", "ln_2.weight")
_BLOCK_KEYS = (
    "attn.in_proj_weight",
    "attn.in_proj_bias",
    "attn.out_proj.weight",
    "attn.out_proj.bias",
    "ln_1.weight",
    "ln_1.bias",
    "mlp.c_fc.weight",
    "mlp.c_fc.bias",
    "mlp.c_proj.weight",
    "mlp.c_proj.bias",
    "ln_2.weight",
    "ln_2.bias",
)


def sinhash_shapes(config: ModelConfig | str = "fgaesq-vit-b-16") -> dict[str, tuple[int, ...]]:
    """Key -> shape of the stand-in weights for `config` (OpenAI visual names without prefix + FGAesQ keys)."""
    c = get_config(config) if isinstance(config, str) else config
    d, m, e, p = c.width, int(c.width * c.mlp_ratio), c.embed_dim, c.patch_size
    shapes: dict[str, tuple[int, ...]] = {
        "class_embedding": (d,),
        "positional_embedding": (1 + c.grid_size**2, d),
        "proj": (d, e),
        "conv1.weight": (d, 3, p, p),
        "ln_pre.weight": (d,),
        "ln_pre.bias": (d,),
        "ln_post.weight": (d,),
        "ln_post.bias": (d,),
    }
    block = {
        "attn.in_proj_weight": (3 * d, d),
        "attn.in_proj_bias": (3 * d,),
        "attn.out_proj.weight": (d, d),
        "attn.out_proj.bias": (d,),
        "ln_1.weight": (d,),
        "ln_1.bias": (d,),
        "mlp.c_fc.weight": (m, d),
        "mlp.c_fc.bias": (m,),
        "mlp.c_proj.weight": (d, m),
        "mlp.c_proj.bias": (d,),
        "ln_2.weight": (d,),
        "ln_2.bias": (d,),
    }
    for i in range(c.layers):
        for name in _BLOCK_KEYS:
            shapes[f"transformer.resblocks.{i}.{name}"] = block[name]
    shapes["scale_embedding"] = (1, c.scales, d)
    shapes["mask_token"] = (1, 1, d)
    dims = [e, *c.head_hidden, c.num_bins]
    for j in range(len(dims) - 1):
        shapes[f"iqa_head.{3 * j}.weight"] = (dims[j + 1], dims[j])
        shapes[f"iqa_head.{3 * j}.bias"] = (dims[j + 1],)
    return shapes


def sinhash_rule(name: str) -> str:
    """Which scaling rule (ln, bias, small, emb, fanin) applies to key `name`."""
    if name.endswith(_LN_SUFFIXES):
        return "ln"
    if name.endswith("bias"):
        return "bias"
    if name in ("scale_embedding", "mask_token"):
        return "small"
    if name in ("class_embedding", "positional_embedding", "proj"):
        return "emb"
    return "fanin"


def sinhash_values(k: int, shape: tuple[int, ...], rule: str, *, width: int = 768) -> np.ndarray:
    """The float32 tensor of key position `k` under `rule` (float64 formula, then rounded)."""
    n = math.prod(shape)
    j1 = np.arange(1, n + 1, dtype=np.float64)
    x = j1 * 12.9898 + (k + 1) * 78.233
    t = np.sin(x) * 43758.5453
    v = 2.0 * (t - np.floor(t)) - 1.0
    if rule == "ln":
        out = 1.0 + 0.1 * v
    elif rule == "bias":
        out = 0.02 * v
    elif rule == "small":
        out = (0.02 * math.sqrt(3.0)) * v
    elif rule == "emb":
        out = (math.sqrt(3.0) * v) / math.sqrt(width)
    elif rule == "fanin":
        fan_in = math.prod(shape[1:]) if len(shape) > 1 else 1
        out = (math.sqrt(3.0) * v) / math.sqrt(fan_in)
    else:
        raise ValueError(f"unknown sinhash rule {rule!r}")
    return out.astype(np.float32).reshape(shape)


def sinhash_arrays(config: ModelConfig | str = "fgaesq-vit-b-16") -> dict[str, np.ndarray]:
    """All stand-in tensors for `config`, keyed by OpenAI visual names + FGAesQ keys, in sorted-key order."""
    c = get_config(config) if isinstance(config, str) else config
    shapes = sinhash_shapes(c)
    return {
        name: sinhash_values(k, shapes[name], sinhash_rule(name), width=c.width)
        for k, name in enumerate(sorted(shapes))
    }


def sinhash_authors_state_dict(
    config: ModelConfig | str = "fgaesq-vit-b-16", *, aliases: bool = True
) -> dict[str, torch.Tensor]:
    """The stand-in weights as the authors' checkpoint lays them out (`clip_model.visual.*` + aliases)."""
    out: dict[str, torch.Tensor] = {}
    for name, arr in sinhash_arrays(config).items():
        t = torch.from_numpy(arr)
        if name in FGAESQ_KEYS or name.startswith("iqa_head."):
            out[name] = t
            continue
        out[f"clip_model.visual.{name}"] = t
        if aliases and (name.startswith(("ln_pre.", "transformer.", "ln_post.")) or name == "proj"):
            out[name] = t
    return out
