"""Training items: pair-mode tokens against a reference of the same series, single mode for coarse, collate."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from train_photo_series import make_coarse, make_series

from fgaesq.data import read_coarse, read_fine
from fgaesq.data.datasets import CoarseBatch, FineBatch, TrainCollate, TrainItems
from fgaesq.model import create_model
from fgaesq.train.inputs import DiffTokenInputs, InputBuilder, input_builder_for


@pytest.fixture(scope="module")
def builder():
    return input_builder_for(create_model("fgaesq-tiny"))


def test_builder_protocol(builder):
    assert isinstance(builder, DiffTokenInputs) and isinstance(builder, InputBuilder)


def test_fine_item_pairs_within_series(tmp_path, builder):
    recs = read_fine(make_series(tmp_path, n_series=2, blurs=(0, 1.5, 3)))
    items = TrainItems([], recs, builder, seed=1)
    it = items[("f", 1, 0, 0, 1)]
    assert len(it.samples) == 3 and it.order == [0, 1, 2]
    for tok in it.samples:
        assert tok.info["mode"] == "pair"
    assert [(a, b) for a, b, _, _ in it.pairs] == [(0, 1), (0, 2), (1, 2)]
    # same key → same tokens (training RNG from the key); another epoch → new reference draws and seeds
    again = items[("f", 1, 0, 0, 1)]
    assert all(torch.equal(x.patches, y.patches) for x, y in zip(it.samples, again.samples, strict=True))
    seeds = lambda item: [t.info["seed"] for t in item.samples]  # noqa: E731
    assert seeds(items[("f", 1, 1, 0, 1)]) != seeds(it)
    batch = TrainCollate(builder)([it, items[("f", 0, 0, 0, 1)]])
    assert isinstance(batch, FineBatch) and batch.inputs.patches.shape[0] == 6
    assert [o.tolist() for o in batch.orders] == [[0, 1, 2], [3, 4, 5]]
    assert batch.pair_a.tolist() == [0, 0, 1, 3, 3, 4] and batch.series == [0, 0, 0, 1, 1, 1]


def test_long_series_part_and_flip(tmp_path, builder):
    recs = read_fine(make_series(tmp_path, n_series=1, blurs=(0, 1, 2, 3)))
    items = TrainItems([], recs, builder, seed=0, flip=True)
    parts = [items[("f", 0, 0, p, 2)] for p in range(2)]
    names = [n for it in parts for n in it.images]
    assert sorted(names) == sorted(str(p) for p in recs[0].images)  # the two parts partition the series
    for it in parts:
        assert len(it.samples) == 2 and all(t.info["mode"] == "pair" for t in it.samples)


def test_flip_same_for_both_images(tmp_path, builder):
    recs = read_fine(make_series(tmp_path, n_series=1))
    plain = TrainItems([], recs, builder, seed=0, flip=False)
    flips = [TrainItems([], recs, builder, seed=s, flip=True)[("f", 0, 0, 0, 1)] for s in range(6)]
    base = plain[("f", 0, 0, 0, 1)]
    # a flipped pair: both images' final pixels are mirrored, so both MD5s change together
    md5 = lambda it: tuple(t.info["final_pixels_md5"] for t in it.samples)  # noqa: E731
    seen = {md5(it) == md5(base) for it in flips}
    assert seen == {True, False}
    for it in flips:
        changed = [a != b for a, b in zip(md5(it), md5(base), strict=True)]
        assert changed in ([False, False], [True, True])


def test_coarse_item_single_mode(tmp_path, clive_dir, builder):
    recs = read_coarse(make_coarse(tmp_path, clive_dir, 3))
    items = TrainItems(recs, [], builder, seed=0)
    it = items[("c", 2, 0, 0, 1)]
    assert it.sample.info["mode"] == "single"
    np.testing.assert_allclose(it.target, recs[2].dist)
    batch = TrainCollate(builder)([items[("c", i, 0, 0, 1)] for i in range(3)])
    assert isinstance(batch, CoarseBatch) and batch.target.shape == (3, 10)


def test_build_model_freezes_per_recipe():
    from fgaesq.train.config import load_config
    from fgaesq.train.run import build_model

    m = build_model(load_config(None, {"model": "fgaesq-tiny", "init": "random"}))
    assert not m.visual.positional_embedding.requires_grad and m.scale_embedding.requires_grad and m.training
    c = build_model(load_config(None, {"model": "fgaesq-tiny", "init": "random", "compat": True}))
    assert c.compat and not c.scale_embedding.requires_grad and c.mask_token.requires_grad


def test_rotation_same_for_both_images(tmp_path, builder):
    recs = read_fine(make_series(tmp_path, n_series=1, size=(128, 64)))
    # a 128x64 pair turned by 90/270° becomes 64x128: the pair geometry follows, for both images together
    shapes = set()
    for s in range(8):
        it = TrainItems([], recs, builder, seed=s, rotate=True)[("f", 0, 0, 0, 1)]
        hw = [tuple(t.info["input_hw"]) for t in it.samples]
        assert hw[0] == hw[1]
        shapes.add(hw[0][0] > hw[0][1])
    assert shapes == {True, False}
