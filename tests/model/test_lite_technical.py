"""fgaesq-lite's technical block: each measurement moves the right way on real photos (scikit-image samples)."""

from __future__ import annotations

import io
import math

import cv2
import numpy as np
import pytest
import skimage.data
import torch
from PIL import Image

from fgaesq.evaluate.native_series import to_linear, to_srgb
from fgaesq.model.lite import LiteConfig, single_viewset
from fgaesq.model.lite.technical import NAMES, TECH_DIM, technical_block

CFG = LiteConfig()


def _photo(name: str) -> np.ndarray:
    arr = getattr(skimage.data, name)()
    return np.ascontiguousarray(np.stack([arr] * 3, -1) if arr.ndim == 2 else arr[..., :3])


def _tech(arr: np.ndarray) -> dict[str, float]:
    views = single_viewset(Image.fromarray(arr), CFG).views
    return dict(zip(NAMES, technical_block(views[None])[0].tolist(), strict=True))


def _rotate(arr: np.ndarray, deg: float) -> np.ndarray:
    h, w, _ = arr.shape
    a = math.radians(deg)
    s = max((w * math.cos(a) + h * math.sin(a)) / w, (w * math.sin(a) + h * math.cos(a)) / h)
    rot = cv2.getRotationMatrix2D((w / 2, h / 2), deg, s)
    return cv2.warpAffine(arr, rot, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)


def _jpeg(arr: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def test_block_is_documented_and_finite():
    assert len(NAMES) == TECH_DIM == len(set(NAMES))
    views = single_viewset(Image.fromarray(_photo("astronaut")), CFG).views
    t = technical_block(torch.stack([views, views]))
    assert t.shape == (2, TECH_DIM) and bool(torch.isfinite(t).all())
    assert torch.equal(t[0], t[1])  # deterministic, no batch interaction


@pytest.mark.parametrize(
    ("name", "places"), [("camera", ("global view", "native crops")), ("astronaut", ("global view",))]
)
def test_tilt_measure_grows_when_a_photo_is_rotated_3_degrees(name, places):
    """The share of edge energy exactly on the axes falls against 1–7° off them (the astronaut's detail crops
    hold no straight lines, so only its global view is asked)."""
    level, tilted = _tech(_photo(name)), _tech(_rotate(_photo(name), 3.0))
    for where in places:
        key = f"tilt ({where}): log(share at 0 deg / mean share at 1-7 deg)"
        assert tilted[key] < level[key] - 0.1, (where, level[key], tilted[key])


@pytest.mark.parametrize("name", ["astronaut", "chelsea", "coffee"])
def test_blockiness_grows_with_jpeg_q30(name):
    clean, q30 = _tech(_photo(name)), _tech(_jpeg(_photo(name), 30))
    for d in ("horizontal", "vertical"):
        key = next(n for n in NAMES if n.startswith(f"compression: log {d} blockiness"))
        assert q30[key] > clean[key] + 0.15, (d, clean[key], q30[key])
    hf = "compression: share of near-zero (|c| < 1) DCT coefficients in the high band"
    assert q30[hf] > clean[hf]


def test_crops_lie_on_the_jpeg_grid():
    vs = single_viewset(Image.fromarray(_photo("coffee")), CFG)
    assert all(x0 % 8 == 0 and y0 % 8 == 0 for x0, y0, _, _ in vs.boxes)


@pytest.mark.parametrize("name", ["astronaut", "coffee"])
def test_exposure_percentiles_follow_minus_one_ev(name):
    arr = _photo(name)
    dark = to_srgb(to_linear(arr) * 0.5)
    a, b = _tech(arr), _tech(dark)
    for p in (25, 50, 75):
        key = f"exposure: log2 linear luminance, {p}th percentile"
        assert b[key] - a[key] == pytest.approx(-1.0, abs=0.15), (p, a[key], b[key])
    key = "exposure: mean log2 linear luminance"
    assert b[key] < a[key] - 0.8


def test_colour_cast_moves_grey_world_ratio():
    arr = _photo("chelsea")
    warm = to_srgb(to_linear(arr) * np.array([1.25, 1.0, 0.8], np.float32))
    a, b = _tech(arr), _tech(warm)
    assert (
        b["colour: grey-world log(mean R / mean G), linear light"]
        > a["colour: grey-world log(mean R / mean G), linear light"] + 0.15
    )
    assert (
        b["colour: grey-world log(mean B / mean G), linear light"]
        < a["colour: grey-world log(mean B / mean G), linear light"] - 0.15
    )
    assert b["colour: mean CIE b* of the whole view"] > a["colour: mean CIE b* of the whole view"] + 3


def test_noise_and_sharpness_measures():
    arr = _photo("astronaut")
    rng = np.random.default_rng(0)
    noisy = np.clip(arr + rng.normal(0, 4, arr.shape), 0, 255).astype(np.uint8)
    soft = cv2.GaussianBlur(arr, (0, 0), sigmaX=1.0)
    a, n, s = _tech(arr), _tech(noisy), _tech(soft)
    sigma = "noise (native crops): log noise sigma (Immerkaer residual, flattest 25 % pixels), 8-bit units"
    assert n[sigma] > a[sigma] + 0.3
    lap = "detail (native crops): log mean squared Laplacian"
    assert s[lap] < a[lap] - 1.0


def test_old_configs_have_no_technical_block():
    old = LiteConfig.from_dict({"arch": "fgaesq-lite", "native": True, "crop_select": "detail", "n_crops": 3})
    assert old.technical == 0 and old.tech_dim == 0 and old.grid == 1
    assert old.desc_dim == 2 * old.view_dim
    assert CFG.technical == 1 and CFG.desc_dim == 2 * CFG.view_dim + TECH_DIM
    with pytest.raises(ValueError):
        LiteConfig.from_dict({"technical": 7})


def test_checkpoints_without_the_key_keep_their_descriptor_and_crops():
    """A lite-2 checkpoint (no ``technical`` key): 2 × view_dim descriptor, crops not moved onto the grid."""
    from fgaesq.model.lite import FGAesQLite, detail_boxes
    from fgaesq.model.lite.views import _prepare

    old = LiteConfig.from_dict({"arch": "fgaesq-lite", "native": True, "crop_select": "detail", "n_crops": 3})
    img = Image.fromarray(_photo("coffee")).resize((1203, 802), Image.Resampling.LANCZOS)
    full, work = _prepare(img, old)
    vs = single_viewset(img, old)
    assert vs.boxes == detail_boxes(full, work, 224, 3)
    assert any(x0 % 8 or y0 % 8 for x0, y0, _, _ in vs.boxes)  # this photo's windows are off the grid
    net = FGAesQLite(old, pretrained_backbone=False).eval()
    assert net.describe(vs.views[None]).shape == (1, 2 * old.view_dim)
