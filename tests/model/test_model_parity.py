"""Forward parity with the authors' code: sinhash ViT-B/16 weights loaded as an authors'-layout checkpoint,
fed the recorded tokenizer outputs (tests/golden/README.md)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from model_helpers import golden_tokens

pytestmark = pytest.mark.parity

CASES = [
    "s1_astronaut_224x224",
    "s3_chelsea_300x200",
    "l1_motorcycle_1024x768",
    "pair_2_1_2:img1",
    "pair_2_1_2:img2",
]


@pytest.fixture(scope="module")
def outputs(vitb, golden_dir):
    """Model outputs and ln_pre inputs for every case (one forward each, compat mode)."""
    assert vitb.compat is True  # the authors' checkpoint loads in compatibility mode
    res = {}
    with torch.no_grad():
        for case in CASES:
            toks, rec = golden_tokens(golden_dir, case)
            res[case] = (vitb.embed_tokens(*toks)[0].double().numpy(), vitb(*toks), rec)
    return res


def test_checkpoint_loaded_every_expected_key(vitb):
    report = vitb.load_report
    assert report.layout == "authors" and report.loaded == report.expected == 160
    assert report.ignored["text-tower tensors"] == 7
    assert any("149 aliases agree" in n for n in report.notes)


@pytest.mark.parametrize("case", CASES)
def test_embed_in_matches(outputs, case):
    embed, _, rec = outputs[case]
    np.testing.assert_allclose(embed[:, :8], rec["embed_in_head8"], atol=1e-5, rtol=0)
    # a sum of 768 float32 values: 1e-5 per value allows more, float rounding alone gives up to ~1e-4
    np.testing.assert_allclose(embed.sum(-1), rec["embed_in_sum"], atol=5e-4, rtol=0)


@pytest.mark.parametrize("case", CASES)
def test_features_logits_score_match(outputs, case):
    _, out, rec = outputs[case]
    np.testing.assert_allclose(out.features[0].numpy(), rec["features"], atol=5e-5, rtol=0)
    np.testing.assert_allclose(out.logits[0].numpy(), rec["logits"], atol=2e-5, rtol=0)
    assert abs(float(out.score[0]) - float(rec["score"])) <= 1e-5


def test_batched_forward_matches_single_forwards(vitb, golden_dir, outputs):
    toks = [golden_tokens(golden_dir, c)[0] for c in ("s3_chelsea_300x200", "pair_2_1_2:img2")]
    batch = [torch.cat(parts) for parts in zip(*toks, strict=True)]
    with torch.no_grad():
        out = vitb(*batch)
    for i, case in enumerate(("s3_chelsea_300x200", "pair_2_1_2:img2")):
        assert abs(float(out.score[i]) - float(outputs[case][2]["score"])) <= 1e-5


def test_compat_flag_matters_as_the_diagnostics_say(vitb, golden_dir):
    diag = json.loads((golden_dir / "manifest.json").read_text())["diagnostics"]
    masked = diag["s3_score_if_padding_tokens_masked_from_attention"]
    no_mask_token = diag["s3_score_if_padding_mask_value_ignored (mask 9 treated as 0, no mask_token)"]
    toks, rec = golden_tokens(golden_dir, "s3_chelsea_300x200")
    patches, pos, scale, pad = toks
    with torch.no_grad():
        ours_masked = float(vitb(*toks, compat=False).score[0])
        ours_plain = float(vitb(patches, pos, scale, torch.zeros_like(pad), compat=True).score[0])
    assert abs(ours_masked - masked["modified"]) <= 1e-5
    assert abs((ours_masked - float(rec["score"])) - masked["delta"]) <= 1e-5
    assert masked["delta"] > 0.2  # the flag changes the score by about +0.242 on this image
    assert abs(ours_plain - no_mask_token["modified"]) <= 1e-5


def test_parameter_count(vitb):
    assert sum(p.numel() for p in vitb.parameters() if p.requires_grad) == 86_343_370
