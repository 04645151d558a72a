"""Technical block version 2: sensor noise measured in the flattest native windows (the noise mosaic view).

Real photos (scikit-image samples, enlarged with Lanczos to burst-like sizes so windows sit in smooth sky and
skin, as in a real camera frame): added noise must raise the flat-window σ clearly, while focus blur and a
⅓ EV exposure change barely move it (the version-1 σ of the detail crops confuses the two)."""

from __future__ import annotations

import numpy as np
import pytest
import skimage.data
import torch
from PIL import Image, ImageFilter

from fgaesq.evaluate.native_series import to_linear, to_srgb
from fgaesq.model import load_model, save_checkpoint
from fgaesq.model.lite import FGAesQLite, LiteConfig, pair_viewsets, single_viewset
from fgaesq.model.lite.technical import NAMES, NOISE_NAMES, TECH_DIM, tech_names, technical_block
from fgaesq.model.lite.views import NOISE_LUMA, noise_windows

V2 = LiteConfig(technical=2)
MEDIAN = NOISE_NAMES[0]


def _photo(name: str, long_side: int = 1600) -> Image.Image:
    arr = getattr(skimage.data, name)()
    arr = np.ascontiguousarray(np.stack([arr] * 3, -1) if arr.ndim == 2 else arr[..., :3])
    img = Image.fromarray(arr)
    s = long_side / max(img.size)
    return img.resize((round(img.width * s), round(img.height * s)), Image.Resampling.LANCZOS)


def _noisy(img: Image.Image, sigma: float, seed: int = 0) -> Image.Image:
    a = np.asarray(img, np.float32)
    a = a + np.random.default_rng(seed).normal(0.0, sigma, a.shape)
    return Image.fromarray(np.clip(a, 0, 255).round().astype(np.uint8))


def _ev(img: Image.Image, stops: float) -> Image.Image:
    lin = to_linear(np.asarray(img)) * 2.0**stops
    return Image.fromarray(to_srgb(lin))


def _tech(img: Image.Image) -> dict[str, float]:
    views = single_viewset(img, V2).views
    return dict(zip(tech_names(2), technical_block(views[None], 2)[0].tolist(), strict=True))


def test_version_2_is_version_1_plus_the_noise_columns():
    img = _photo("astronaut")
    v1 = technical_block(single_viewset(img, LiteConfig(technical=1)).views[None], 1)
    vs = single_viewset(img, V2)
    assert vs.views.shape[0] == V2.n_views == 1 + V2.n_crops + 1
    v2 = technical_block(vs.views[None], 2)
    assert tech_names(2) == NAMES + NOISE_NAMES and V2.tech_dim == TECH_DIM + len(NOISE_NAMES)
    assert v2.shape == (1, V2.tech_dim) and bool(torch.isfinite(v2).all())
    assert torch.equal(v2[:, :TECH_DIM], v1)  # version 1's columns are unchanged


@pytest.mark.parametrize("name", ["astronaut", "coffee", "chelsea"])
def test_flat_window_noise_sees_sigma_4_noise_and_ignores_blur_and_exposure(name):
    clean = _photo(name)
    t = _tech(clean)
    noisy, soft, dark = _tech(_noisy(clean, 4.0)), _tech(clean.filter(ImageFilter.GaussianBlur(1.0))), _tech(
        _ev(clean, -1 / 3)
    )
    assert noisy[MEDIAN] > t[MEDIAN] + 0.8  # σ 4 against the photo's own few tenths of a level
    assert abs(soft[MEDIAN] - t[MEDIAN]) < 0.2 and abs(dark[MEDIAN] - t[MEDIAN]) < 0.2
    # the version-1 detail-crop σ is pulled down by the same blur by more than that
    v1 = "noise (native crops): log noise sigma (Immerkaer residual, flattest 25 % pixels), 8-bit units"
    assert (t[v1] - soft[v1]) > (t[MEDIAN] - soft[MEDIAN])


def test_noise_windows_are_flat_unclipped_and_deterministic():
    img = _photo("astronaut")
    work = img.resize((512, round(512 * img.height / img.width)), Image.Resampling.LANCZOS)
    boxes = noise_windows(img, work, 56, 16)
    assert boxes == noise_windows(img, work, 56, 16) and len(set(boxes)) == 16
    grey = np.asarray(img.convert("L"), np.float32)
    for x0, y0, x1, y1 in boxes:
        assert 0 <= x0 < x1 <= img.width and 0 <= y0 < y1 <= img.height and (x1 - x0, y1 - y0) == (56, 56)
        assert NOISE_LUMA[0] - 4 <= grey[y0:y1, x0:x1].mean() <= NOISE_LUMA[1] + 4

    def contrast(b):
        g = grey[b[1] : b[3], b[0] : b[2]]
        return np.abs(np.diff(g, axis=0)).mean() + np.abs(np.diff(g, axis=1)).mean()

    every = sorted(contrast((x, y, x + 56, y + 56)) for y in range(0, img.height - 56, 56)
                   for x in range(0, img.width - 56, 56))  # fmt: skip
    assert np.median([contrast(b) for b in boxes]) < every[len(every) // 4]  # among the flattest quarter


def test_pair_mode_and_the_backbone_skip_the_mosaic():
    a, b = _photo("coffee", 1200), _noisy(_photo("coffee", 1200), 4.0)
    va, vb = pair_viewsets(a, b, V2)
    assert va.views.shape == vb.views.shape == (V2.n_views, 3, 224, 224) and len(va.boxes) == V2.n_crops
    torch.manual_seed(0)
    net = FGAesQLite(V2, pretrained_backbone=False).eval()
    desc = net.describe(torch.stack([va.views, vb.views]))
    assert desc.shape == (2, V2.desc_dim)
    stats = net.view_stats(va.views[: 1 + V2.n_crops])
    assert torch.allclose(desc[0, : V2.view_dim], stats[0], atol=1e-5)  # global view first, mosaic not seen
    crops = desc[0, V2.view_dim : 2 * V2.view_dim]
    assert torch.allclose(crops, stats[1:].mean(0), atol=1e-5)  # the crop mean leaves the mosaic out


def test_version_2_checkpoints_round_trip_and_old_ones_still_load(tmp_path):
    torch.manual_seed(1)
    net = FGAesQLite(V2, pretrained_backbone=False).eval()
    views = torch.stack([single_viewset(_photo(n, 900), V2).views for n in ("astronaut", "coffee")])
    net.set_normalisation(torch.cat([net.describe(views)] * 20) + torch.randn(40, V2.desc_dim))
    back = load_model(save_checkpoint(net, tmp_path / "v2.safetensors"))
    assert back.config.technical == 2 and back.config.n_views == 5
    assert torch.allclose(back(views).score, net(views).score, atol=1e-5)
    v1 = FGAesQLite(LiteConfig(technical=1), pretrained_backbone=False)
    old = load_model(save_checkpoint(v1, tmp_path / "v1.safetensors"))
    assert old.config.technical == 1 and old.config.n_views == 4 and old.config.tech_dim == TECH_DIM
    with pytest.raises(ValueError, match="must be one of"):
        LiteConfig.from_dict({"technical": 4})


def test_descriptor_dropout_drops_backbone_statistics_in_training_only():
    cfg = LiteConfig(technical=2, desc_dropout=0.5)
    torch.manual_seed(2)
    net = FGAesQLite(cfg, pretrained_backbone=False)
    views = torch.stack([single_viewset(_photo(n, 900), cfg).views for n in ("astronaut", "coffee", "chelsea")])
    desc = net.describe(views)
    net.set_normalisation(torch.cat([desc] * 20) + torch.randn(60, cfg.desc_dim))
    net.eval()
    assert torch.equal(net(desc).score, net(desc).score)  # off at inference
    seen = []
    net.proj.register_forward_hook(lambda m, i, o: seen.append(i[0].detach()))
    net.train()
    net(desc)
    z = seen[-1]
    b = cfg.desc_dim - cfg.tech_dim
    assert 0.35 < float((z[:, :b] == 0).float().mean()) < 0.65  # about half the backbone columns dropped
    assert float((z[:, b:] == 0).float().mean()) < 0.05  # the technical block untouched
    with pytest.raises(ValueError, match="desc_dropout"):
        LiteConfig.from_dict({"desc_dropout": 1.0})


def test_penalty_columns_can_only_lower_the_score(tmp_path):
    """Whatever the head's weights, raising a penalty measurement (flat-window noise, blockiness) lowers the
    score, and the head never sees those columns."""
    from fgaesq.model.lite.technical import PENALTY_SETS, penalty_columns

    cols = penalty_columns(2, ("noise", "jpeg"))
    assert [tech_names(2)[i] for i in cols] == [*PENALTY_SETS["noise"], *PENALTY_SETS["jpeg"]]
    cfg = LiteConfig(technical=2, penalties=cols)
    torch.manual_seed(4)
    net = FGAesQLite(cfg, pretrained_backbone=False)
    views = torch.stack([single_viewset(_photo(n, 900), cfg).views for n in ("astronaut", "coffee", "chelsea")])
    desc = net.describe(views)
    net.set_normalisation(torch.cat([desc] * 20) + torch.randn(60, cfg.desc_dim))
    with torch.no_grad():
        net.prior_w.copy_(torch.rand(len(cols)) * 0.03)  # weights softplus(50·raw) from 0.7 to 1.7
    net.eval()
    seen = []
    net.proj.register_forward_hook(lambda m, i, o: seen.append(i[0].detach()))
    base = net(desc).score
    start = cfg.desc_dim - cfg.tech_dim
    for i in cols:
        worse = desc.clone()
        worse[:, start + i] += 3 * net.desc_std[start + i]
        assert bool((net(worse).score < base).all())
        assert torch.equal(seen[-1], seen[0])  # the projection's input did not change
    back = load_model(save_checkpoint(net, tmp_path / "pen.safetensors"))
    assert back.config.penalties == cols and torch.allclose(back(desc).score, base, atol=1e-5)
    with pytest.raises(ValueError, match="penalties"):
        LiteConfig(technical=2, penalties=(cfg.tech_dim,))
    with pytest.raises(ValueError, match="unknown penalty"):
        penalty_columns(2, ("sharpness",))
