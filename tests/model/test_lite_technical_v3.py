"""Technical block version 3: the JPEG quantisation step the native crops' pixels went through.

Real photos (scikit-image samples, enlarged with Lanczos so they are not themselves decoded JPEGs) saved by
Pillow at several qualities: the estimator must recover the file's own luma quantisation table, read no lattice
in a lossless photo, grow with compression, and hardly move between frames of a burst saved at one quality
(focus blur, ⅓ EV, noise)."""

from __future__ import annotations

import io

import numpy as np
import pytest
import skimage.data
import torch
from PIL import Image, ImageFilter

from fgaesq.evaluate.native_series import to_linear, to_srgb
from fgaesq.model import load_model, save_checkpoint
from fgaesq.model.lite import FGAesQLite, LiteConfig, single_viewset
from fgaesq.model.lite.technical import (
    NAMES,
    NOISE_NAMES,
    PENALTY_SETS,
    QUANT_NAMES,
    QUANT_ZIGZAG,
    jpeg_luma,
    penalty_columns,
    quantisation_steps,
    tech_names,
    technical_block,
    to_pixels,
)

V3 = LiteConfig(technical=3)
PHOTOS = ("astronaut", "coffee", "chelsea")


def _photo(name: str, long_side: int = 1400) -> Image.Image:
    arr = getattr(skimage.data, name)()
    img = Image.fromarray(np.ascontiguousarray(arr[..., :3]))
    s = long_side / max(img.size)
    return img.resize((round(img.width * s), round(img.height * s)), Image.Resampling.LANCZOS)


def _jpeg(img: Image.Image, quality: int) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    buf.seek(0)
    return Image.open(buf)


def _quant(img: Image.Image) -> np.ndarray:
    views = single_viewset(img.convert("RGB"), V3).views
    return technical_block(views[None], 3)[0, -len(QUANT_NAMES) :].numpy()


def test_version_3_is_version_2_plus_the_quantisation_columns():
    vs = single_viewset(_photo("astronaut"), V3)
    assert vs.views.shape[0] == V3.n_views == 5  # the same views as version 2
    v2 = technical_block(vs.views[None], 2)
    v3 = technical_block(vs.views[None], 3)
    assert tech_names(3) == NAMES + NOISE_NAMES + QUANT_NAMES and v3.shape == (1, V3.tech_dim)
    assert torch.equal(v3[:, : v2.shape[1]], v2)
    assert penalty_columns(3, ("quant",)) == tuple(tech_names(3).index(n) for n in QUANT_NAMES)
    assert PENALTY_SETS["quant"] == QUANT_NAMES
    assert all(b % 8 == 0 for box in vs.boxes for b in box[:2])  # crops on the JPEG grid


@pytest.mark.parametrize("quality", [90, 75, 50])
def test_the_estimated_steps_are_the_files_own_quantisation_table(quality):
    """The measured frequencies' steps are the luma table Pillow wrote into the file (natural order), to within
    10 % (a near-multiple of a large step fits almost as well: 25 for 24)."""
    jpg = _jpeg(_photo("astronaut"), quality)
    table = np.asarray(jpg.quantization[0]).reshape(8, 8)
    views = single_viewset(jpg.convert("RGB"), V3).views
    step, measured = quantisation_steps(jpeg_luma(to_pixels(views[None, 1:-1])))
    truth = np.asarray([table[u, v] for u, v in QUANT_ZIGZAG], dtype=float)
    got, ok = step[0].numpy(), measured[0].numpy()
    detectable = ok & (truth >= 4)  # steps of 2-3 drown in the decoder's rounding
    assert detectable.sum() >= 8
    close = np.abs(np.log2(got[detectable] / truth[detectable])) <= np.log2(1.1)
    assert close.mean() >= 0.85, (got, truth)
    assert (got[detectable] == truth[detectable]).mean() >= 0.5


@pytest.mark.parametrize("name", PHOTOS)
def test_lossless_reads_no_lattice_and_the_low_band_grows_with_compression(name):
    img = _photo(name)
    low = [_quant(img)[0]] + [_quant(_jpeg(img, q))[0] for q in (95, 85, 75, 50, 30)]
    assert low[0] == 0.0  # no lattice in a photo that never was a JPEG
    assert low[3] > 2.0 > low[1]  # q75 steps 5..16, q95 steps 1..3
    assert all(b > a for a, b in zip(low[1:], low[2:], strict=False)), low


def test_frames_of_a_burst_saved_at_one_quality_share_their_lattice():
    """Focus blur σ 1, ⅓ EV and sensor-like noise change what the photo shows, not how it was compressed."""
    img = _photo("coffee", 2000)
    lin = to_linear(np.asarray(img))
    frames = {
        "blur": img.filter(ImageFilter.GaussianBlur(1.0)),
        "ev": Image.fromarray(to_srgb(lin * 2 ** (1 / 3))),
        "noise": Image.fromarray(np.clip(np.asarray(img) + np.random.default_rng(0).normal(0, 4, lin.shape), 0,
                                         255).round().astype(np.uint8)),  # fmt: skip
    }
    clean = _quant(_jpeg(img, 95))
    for k, f in frames.items():
        assert abs(_quant(_jpeg(f, 95))[0] - clean[0]) <= 0.3, k
    assert _quant(_jpeg(img, 75))[0] - clean[0] > 1.5


def test_version_3_checkpoints_round_trip(tmp_path):
    torch.manual_seed(3)
    cfg = LiteConfig(technical=3, penalties=("noise", "quant"))
    net = FGAesQLite(cfg, pretrained_backbone=False).eval()
    views = torch.stack([single_viewset(_jpeg(_photo(n, 700), 80).convert("RGB"), cfg).views for n in PHOTOS[:2]])
    net.set_normalisation(torch.cat([net.describe(views)] * 20) + torch.randn(40, cfg.desc_dim))
    back = load_model(save_checkpoint(net, tmp_path / "v3.safetensors"))
    assert back.config.technical == 3 and back.config.penalties == cfg.penalties
    assert torch.allclose(back(views).score, net(views).score, atol=1e-5)
