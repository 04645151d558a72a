"""End-to-end parity: PNG -> DiffToken -> FGAesQ (authors'-layout sinhash checkpoint) -> features, logits, score.

Covers every golden case (6 single images, 13 pairs = 26 images) with the decisions drawn from the recorded
seeds / pair ids (no forcing), and the 4 series aggregated from our own pair scores.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from fgaesq.tokenize import DiffTokenizer, collate_tokens

pytestmark = pytest.mark.parity

SINGLE = ["s1_astronaut_224x224", "s2_coffee_384x256", "s3_chelsea_300x200", "s4_rocket_200x300",
          "l1_motorcycle_1024x768", "l2_rocket_800x600"]
PAIRS = ["1_1_2", "1_1_3", "1_2_3", "2_1_2", "3_1_2", "3_1_3", "3_1_4", "3_2_3", "3_2_4", "3_3_4",
         "5_1_2", "5_1_3", "5_2_3"]


def _outputs(model, tokens):
    with torch.no_grad():
        out = model(collate_tokens(tokens))
    return out.features.numpy(), out.logits.numpy(), out.score.numpy()


def _check(rec, prefix, feats, logits, score):
    assert np.abs(feats - rec[prefix + "features"]).max() <= 5e-5
    assert np.abs(logits - rec[prefix + "logits"]).max() <= 2e-5
    assert abs(float(score) - float(rec[prefix + "score"])) <= 1e-5


@pytest.fixture(scope="module")
def manifest(golden_dir):
    return json.loads((golden_dir / "manifest.json").read_text())


@pytest.fixture(scope="module")
def tokenizer(vitb):
    """The tokenizer reads its positional table from the loaded checkpoint, as the release does."""
    return DiffTokenizer(vitb.pos_source)


def test_single_cases_end_to_end(golden_dir, manifest, vitb, tokenizer):
    tokens, recs = [], []
    for case in SINGLE:
        meta = manifest["single"][case]
        tokens.append(tokenizer.single(Image.open(golden_dir / meta["image"]), seed=meta["seed"]))
        with np.load(golden_dir / "single" / f"{case}.npz") as z:
            recs.append({k: z[k] for k in ("features", "logits", "score")})
    feats, logits, scores = _outputs(vitb, tokens)
    for i, rec in enumerate(recs):
        _check(rec, "", feats[i], logits[i], scores[i])


@pytest.fixture(scope="module")
def pair_scores(golden_dir, vitb, tokenizer):
    """Our score of every image of every golden pair, checked against the record on the way."""
    scores = {}
    for pid in PAIRS:
        s, i, j = pid.split("_")
        a = Image.open(golden_dir / "images" / f"series{s}_{i}.webp")
        b = Image.open(golden_dir / "images" / f"series{s}_{j}.webp")
        feats, logits, sc = _outputs(vitb, list(tokenizer.pair(a, b, pair_id=pid)))
        with np.load(golden_dir / "pairs" / f"pair_{pid}.npz") as rec:
            for k in (0, 1):
                _check(rec, f"img{k + 1}_", feats[k], logits[k], sc[k])
        scores[pid] = (float(sc[0]), float(sc[1]))
    return scores


def test_pair_images_end_to_end(pair_scores):
    assert len(pair_scores) == 13


def test_series_aggregate_to_recorded_rankings(manifest, pair_scores):
    from fgaesq.rank import aggregate_series

    for sid, rec in manifest["series"].items():
        per_image: dict[str, list[float]] = {}
        for pid in rec["pairs"]:
            _, i, j = pid.split("_")
            per_image.setdefault(i, []).append(pair_scores[pid][0])
            per_image.setdefault(j, []).append(pair_scores[pid][1])
        result = aggregate_series(per_image)
        assert [rec["images"][r.key] for r in result] == rec["ranking_best_first"], sid
        for r in result:
            assert abs(r.score - rec["per_image"][r.key]["adjusted"]) <= 1e-5
