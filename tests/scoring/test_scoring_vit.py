"""The DiffToken (ViT) scorer: determinism, batching, workers, pair plumbing, devices."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data

from fgaesq.scoring import Scorer
from fgaesq.scoring.device import autocast_dtype, pick_device
from fgaesq.scoring.vit import FGAesQScorer
from fgaesq.tokenize import DiffTokenizer, collate_tokens


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    paths = []
    for name in ("astronaut", "coffee", "chelsea"):
        p = folder / f"{name}.png"
        Image.fromarray(getattr(data, name)()).save(p)
        paths.append(p)
    return paths


def test_protocol_and_single_scores(tiny_scorer, photos):
    assert isinstance(tiny_scorer, Scorer)
    s = tiny_scorer.score(photos)
    assert s.shape == (3,) and np.all((s >= 1) & (s <= 10))
    assert np.array_equal(s, tiny_scorer.score(photos))  # deterministic
    pil = [Image.open(p).convert("RGB") for p in photos]
    assert np.allclose(tiny_scorer.score(pil), s, atol=1e-6)  # path or PIL image: same input, same score
    assert len(set(np.round(s, 6))) == 3  # different photos, different scores


def test_batch_size_and_workers_do_not_change_scores(tiny_model, tiny_scorer, photos):
    ref = tiny_scorer.score(photos)
    one = FGAesQScorer(tiny_model, device="cpu", batch_size=1, max_size=512).score(photos)
    workers = FGAesQScorer(tiny_model, device="cpu", batch_size=2, workers=2, max_size=512).score(photos)
    assert np.allclose(one, ref, atol=1e-5) and np.allclose(workers, ref, atol=1e-5)


def test_pair_scores_match_direct_tokenize_and_forward(tiny_model, tiny_scorer, photos):
    a, b = photos[0], photos[0]
    shifted = Image.fromarray(np.roll(data.astronaut(), 7, axis=1))
    got = tiny_scorer.score_pairs([(a, shifted, "burst_1_2"), (photos[1], photos[2], "x_1_2")])
    assert got.shape == (2, 2)
    tok = DiffTokenizer(tiny_model.pos_source.detach(), compat=tiny_model.compat)
    ta, tb = tok.pair(Image.open(b).convert("RGB"), shifted, pair_id="burst_1_2")
    with torch.no_grad():
        direct = tiny_model(collate_tokens([ta, tb])).score.numpy()
    assert np.allclose(got[0], direct, atol=1e-5)
    # the pair id seeds the tokenizer: same pair, same scores
    assert np.allclose(tiny_scorer.score_pairs([(a, shifted, "burst_1_2")])[0], got[0], atol=1e-5)
    other = tiny_scorer.score_pairs([(a, shifted, "burst_1_3")])[0]  # another id draws other fine cells
    assert not np.allclose(other, got[0], atol=1e-7)


def test_embed_shape_and_max_size(tiny_model, photos):
    small = FGAesQScorer(tiny_model, device="cpu", max_size=128)
    f = small.embed(photos)
    assert f.shape == (3, tiny_model.config.embed_dim) and np.all(np.isfinite(f))
    assert not np.allclose(small.score(photos), FGAesQScorer(tiny_model, device="cpu", max_size=512).score(photos))


def test_devices():
    assert pick_device("cpu").type == "cpu"
    assert pick_device("auto").type in ("cpu", "cuda", "mps")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            pick_device("cuda")
    with pytest.raises(ValueError):
        pick_device("tpu")
    assert autocast_dtype(torch.device("cpu")) is None
    assert autocast_dtype(torch.device("cuda"), "fp16") is torch.float16


def test_pairs_in_loader_workers_match_in_process(tiny_model, tiny_scorer, photos):
    pairs = [(photos[0], photos[1], "w_1_2"), (photos[1], photos[2], "w_2_3"), (photos[0], photos[2], "w_1_3")]
    ref = tiny_scorer.score_pairs(pairs)
    workers = FGAesQScorer(tiny_model, device="cpu", batch_size=2, workers=2, max_size=512).score_pairs(pairs)
    assert np.allclose(workers, ref, atol=1e-5)


def test_cpu_bf16_is_an_explicit_opt_in(tiny_model, tiny_scorer, photos):
    """'auto' keeps float32 on the CPU (scores as before); 'bf16' autocasts the forward and moves scores slightly."""
    assert autocast_dtype(torch.device("cpu"), "auto") is None
    assert autocast_dtype(torch.device("cpu"), "bf16") is torch.bfloat16
    with pytest.raises(ValueError, match="fp16 is for GPUs"):
        autocast_dtype(torch.device("cpu"), "fp16")
    with pytest.raises(ValueError, match="--precision must be one of"):
        autocast_dtype(torch.device("cpu"), "fp8")
    ref = tiny_scorer.score(photos)
    bf16 = FGAesQScorer(tiny_model, device="cpu", max_size=512, precision="bf16")
    got = bf16.score(photos)
    assert bf16.dtype is torch.bfloat16
    assert not np.array_equal(got, ref)  # the forward did run in bf16 ...
    assert np.abs(got - ref).max() < 0.05  # ... and stays close to float32
    with pytest.raises(ValueError, match="applies to the torch backend"):
        FGAesQScorer(tiny_model, device="cpu", precision="bf16", backend="onnx")
