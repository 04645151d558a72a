"""Every scorer sees the pixels fgaesq.io.load_image gives: alpha on white, 16-bit as 8-bit, CMYK, palette, EXIF.

Checked through fgaesq-lite (the shipped weights) and through the ViT scorer (fgaesq-tiny): a tricky file scores
exactly like the plain RGB image of the same pixels.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from skimage import data

from fgaesq.io import load_image
from fgaesq.scoring import load_scorer


@pytest.fixture(scope="module")
def scorers(tiny_scorer):
    return {"lite": load_scorer("fgaesq-lite", device="cpu"), "vit": tiny_scorer}


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return data.chelsea()[:256, :320]  # 320 x 256 RGB


def _same(scorer, file, reference: Image.Image) -> tuple[float, float]:
    a, b = scorer.score([file, reference.convert("RGB")])
    return float(a), float(b)


@pytest.mark.parametrize("family", ["lite", "vit"])
def test_transparent_background_scores_like_white_composite(scorers, photo, tmp_path, family):
    h, w = photo.shape[:2]
    alpha = np.zeros((h, w), np.uint8)
    alpha[64:192, 80:240] = 255  # opaque subject, transparent surroundings
    hidden = np.random.default_rng(0).integers(0, 256, photo.shape, dtype=np.uint8)  # colours under alpha 0
    rgb = np.where(alpha[..., None] > 0, photo, hidden)
    Image.fromarray(np.dstack([rgb, alpha])).save(tmp_path / "cutout.png")
    Image.fromarray(rgb).save(tmp_path / "opaque.png")
    white = np.where(alpha[..., None] > 0, photo, 255).astype(np.uint8)
    cut, ref = _same(scorers[family], tmp_path / "cutout.png", Image.fromarray(white))
    assert cut == pytest.approx(ref, abs=1e-5)
    opaque = float(scorers[family].score([tmp_path / "opaque.png"])[0])
    assert abs(opaque - cut) > 1e-4  # the hidden colours no longer leak into the score


@pytest.mark.parametrize("family", ["lite", "vit"])
def test_16_bit_grey_scores_like_8_bit(scorers, tmp_path, family):
    grey8 = data.camera()[:256, :320]
    Image.fromarray(grey8).save(tmp_path / "g8.png")
    Image.fromarray(grey8.astype(np.uint16) * 257).save(tmp_path / "g16.png")  # the same pixels in 16 bits
    assert Image.open(tmp_path / "g16.png").mode.startswith("I")
    s8, s16 = scorers[family].score([tmp_path / "g8.png", tmp_path / "g16.png"])
    assert s16 == pytest.approx(s8, abs=1e-5)


@pytest.mark.parametrize("family", ["lite", "vit"])
def test_palette_cmyk_and_exif_rotation_score_as_their_rgb_pixels(scorers, photo, tmp_path, family):
    scorer = scorers[family]
    pal = Image.fromarray(photo).quantize(64)
    pal.save(tmp_path / "pal.png")
    a, b = _same(scorer, tmp_path / "pal.png", pal)
    assert a == pytest.approx(b, abs=1e-5)

    Image.fromarray(photo).convert("CMYK").save(tmp_path / "cmyk.jpg", quality=95)
    with Image.open(tmp_path / "cmyk.jpg") as im:
        assert im.mode == "CMYK"
        rgb = im.convert("RGB")
    a, b = _same(scorer, tmp_path / "cmyk.jpg", rgb)
    assert a == pytest.approx(b, abs=1e-5)

    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to view": the stored pixels lie on their side
    Image.fromarray(photo).transpose(Image.Transpose.ROTATE_90).save(tmp_path / "rotated.jpg", quality=95, exif=exif)
    with Image.open(tmp_path / "rotated.jpg") as im:
        lying = Image.fromarray(np.asarray(im.convert("RGB")))  # the stored pixels, no EXIF
    upright = lying.transpose(Image.Transpose.ROTATE_270)
    s_file, s_upright, s_lying = scorer.score([tmp_path / "rotated.jpg", upright, lying])
    assert s_file == pytest.approx(s_upright, abs=1e-5) and abs(s_file - s_lying) > 1e-4
    decoded = load_image(tmp_path / "rotated.jpg")
    assert load_image(decoded).size == decoded.size == (320, 256)  # decoding an upright image again keeps it upright
