"""One decoder: alpha, 16-bit, CMYK, palette and EXIF-rotated photos give the same, correct pixels on every path.

Paths: inference (`fgaesq.io.load_image`), training (the default loader of `TrainItems` and the validation
items), series refinement (`refine_checks.load_rgb`) and the annotation app's image route.
"""

from __future__ import annotations

import inspect
import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from skimage import data

from fgaesq.calibrate.refine_checks import load_rgb
from fgaesq.data.datasets import TrainItems
from fgaesq.io import load_image
from fgaesq.io.image import browser_safe
from fgaesq.serve.annotate.app import build_store, create_app

ASTRONAUT = data.astronaut()  # 512x512 RGB
CHELSEA = data.chelsea()  # 300x451 RGB
CAMERA = data.camera()  # 512x512 grey


def _alpha_png(d: Path) -> tuple[Path, np.ndarray]:
    alpha = np.tile(np.linspace(0, 255, 512).astype(np.uint8), (512, 1))
    Image.fromarray(np.dstack([ASTRONAUT, alpha])).save(d / "alpha.png")
    a = alpha[..., None] / 255.0
    return d / "alpha.png", ASTRONAUT * a + 255 * (1 - a)  # composited on white


def _grey16_png(d: Path) -> tuple[Path, np.ndarray]:
    Image.fromarray(CAMERA.astype(np.uint16) * 257).save(d / "grey16.png")
    return d / "grey16.png", np.repeat(CAMERA[..., None], 3, axis=2)


def _rgb16_png(d: Path) -> tuple[Path, np.ndarray]:
    cv2.imwrite(str(d / "rgb16.png"), (ASTRONAUT.astype(np.uint16) * 256 + 100)[..., ::-1])  # cv2 writes BGR
    return d / "rgb16.png", ASTRONAUT


def _cmyk_jpeg(d: Path) -> tuple[Path, np.ndarray]:
    Image.fromarray(CHELSEA).convert("CMYK").save(d / "cmyk.jpg", quality=95)
    return d / "cmyk.jpg", CHELSEA


def _palette_png(d: Path) -> tuple[Path, np.ndarray]:
    pal = Image.fromarray(ASTRONAUT).quantize(64)
    pal.save(d / "palette.png")
    return d / "palette.png", np.asarray(pal.convert("RGB"))


def _palette_transparent_png(d: Path) -> tuple[Path, np.ndarray]:
    pal = Image.fromarray(ASTRONAUT).quantize(64)
    pal.info["transparency"] = 0
    pal.save(d / "palette_t.png", transparency=0)
    rgb = np.asarray(pal.convert("RGB")).copy()
    rgb[np.asarray(pal) == 0] = 255
    return d / "palette_t.png", rgb


def _rotated_jpeg(d: Path) -> tuple[Path, np.ndarray]:
    exif = Image.Exif()
    exif[0x0112] = 6  # displayed rotated 90° clockwise
    Image.fromarray(CHELSEA).save(d / "rotated.jpg", quality=97, exif=exif)
    return d / "rotated.jpg", np.rot90(CHELSEA, -1)


CASES = {
    "alpha": (_alpha_png, 0.51),  # exact up to rounding
    "grey16": (_grey16_png, 0.0),
    "rgb16": (_rgb16_png, 0.0),  # the high byte of each sample
    "cmyk": (_cmyk_jpeg, 6.0),  # JPEG loss only (mean abs error)
    "palette": (_palette_png, 0.0),
    "palette_transparent": (_palette_transparent_png, 0.0),
    "rotated": (_rotated_jpeg, 4.0),
}


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> dict[str, tuple[Path, np.ndarray]]:
    root = tmp_path_factory.mktemp("decode") / "series"
    root.mkdir()
    return {name: make(root) for name, (make, _) in CASES.items()}


@pytest.fixture(scope="module")
def client(photos, tmp_path_factory):
    root = next(iter(photos.values()))[0].parent.parent
    store = build_store(root, f"sqlite:///{tmp_path_factory.mktemp('db') / 'votes.sqlite'}")
    with TestClient(create_app(store)) as c:
        yield c


@pytest.mark.parametrize("case", sorted(CASES))
def test_inference_pixels_are_right(photos, case):
    path, expect = photos[case]
    got = np.asarray(load_image(path, max_size=None), dtype=np.float64)
    assert got.shape == expect.shape
    err = np.abs(got - expect)
    tol = CASES[case][1]
    if case in ("cmyk", "rotated"):
        assert err.mean() < tol, err.mean()
    else:
        assert err.max() <= tol, err.max()


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_path_gives_the_same_pixels(photos, client, case):
    path, _ = photos[case]
    ref = np.asarray(load_image(path, max_size=None))
    # training: the default loader of the training items, at a training size
    loader = inspect.signature(TrainItems.__init__).parameters["loader"].default
    assert np.array_equal(np.asarray(loader(path, 256)), np.asarray(load_image(path, 256)))
    assert np.array_equal(np.asarray(loader(path, None)), ref)
    # series refinement
    assert np.array_equal(load_rgb(str(path)), ref)
    # the annotation app: a file a browser shows as is goes byte for byte, any other is decoded like everywhere
    r = client.get(f"/img/{path.parent.name}/{path.name}")
    assert r.status_code == 200
    assert browser_safe(path) == (case == "palette")  # a plain palette PNG: browsers show the same pixels
    if browser_safe(path):
        assert r.content == path.read_bytes()
    else:
        assert r.headers["content-type"] == "image/png"
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(r.content)).convert("RGB")), ref)


def test_plain_photos_are_browser_safe(tmp_path):
    Image.fromarray(CHELSEA).save(tmp_path / "plain.jpg", quality=90)
    Image.fromarray(CAMERA).save(tmp_path / "grey.png")
    assert browser_safe(tmp_path / "plain.jpg") and browser_safe(tmp_path / "grey.png")
    (tmp_path / "junk.jpg").write_bytes(b"not an image")
    assert not browser_safe(tmp_path / "junk.jpg")
