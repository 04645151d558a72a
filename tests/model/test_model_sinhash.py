"""Sinhash stand-in weights against the golden per-key checksums."""

from __future__ import annotations

import json

import numpy as np

from sinhash import sinhash_arrays, sinhash_authors_state_dict, sinhash_rule, sinhash_shapes


def _ulps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a.astype(np.float32).view(np.int32).astype(np.int64) - b.astype(np.float32).view(np.int32))


def test_every_key_matches_the_golden_checksums(golden_dir):
    ref = json.loads((golden_dir / "weights_checksums.json").read_text())["keys"]
    arrays = sinhash_arrays("fgaesq-vit-b-16")
    assert list(arrays) == sorted(ref) and len(arrays) == 160
    assert sum(a.size for a in arrays.values()) == 86_343_370
    for k, (name, arr) in enumerate(arrays.items()):
        r = ref[name]
        assert r["k"] == k, name
        assert list(arr.shape) == r["shape"], name
        assert sinhash_rule(name) == r["rule"], name
        assert arr.dtype == np.float32
        a64 = arr.astype(np.float64)
        assert abs(a64.sum() - r["sum"]) < 1e-6, name
        assert abs(np.abs(a64).sum() - r["abs_sum"]) < 1e-6, name
        flat = arr.reshape(-1)
        assert _ulps(flat[:4], np.array(r["first4"], dtype=np.float32)).max() <= 1, name
        assert _ulps(flat[-1:], np.array([r["last"]], dtype=np.float32)).max() <= 1, name


def test_in_proj_bias_is_a_bias_and_head_weights_use_fan_in():
    assert sinhash_rule("transformer.resblocks.3.attn.in_proj_bias") == "bias"
    assert sinhash_rule("transformer.resblocks.3.ln_2.weight") == "ln"
    assert sinhash_rule("iqa_head.6.weight") == "fanin"
    arr = sinhash_arrays("fgaesq-tiny")
    assert np.abs(arr["iqa_head.6.weight"]).max() <= np.sqrt(3) / np.sqrt(16) + 1e-7


def test_authors_layout_has_aliases_sharing_values():
    sd = sinhash_authors_state_dict("fgaesq-tiny")
    shapes = sinhash_shapes("fgaesq-tiny")
    assert "clip_model.visual.conv1.weight" in sd and "conv1.weight" not in sd
    assert (sd["transformer.resblocks.1.mlp.c_fc.weight"] == sd["clip_model.visual.transformer.resblocks.1.mlp.c_fc.weight"]).all()
    assert sd["proj"].shape == shapes["proj"] == (64, 32)
    assert "scale_embedding" in sd and "iqa_head.0.weight" in sd
