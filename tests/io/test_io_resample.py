"""The compiled LANCZOS resize gives Pillow's pixels bit for bit, on photos, in every pass order and size."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from skimage import data

from fgaesq.io import load_image
from fgaesq.io.resample import MIN_PIXELS, _compiled, coefficients, resize_array, resize_lanczos

PHOTOS = {"astronaut": data.astronaut(), "coffee": data.coffee(), "chelsea": data.chelsea()}


def _photo(name: str, size: tuple[int, int]) -> Image.Image:
    return Image.fromarray(PHOTOS[name]).resize(size, Image.Resampling.BICUBIC)


def test_compiled_kernels_are_available():
    assert _compiled() is not None  # numba is a dependency: the fast path is what users get


@pytest.mark.parametrize(
    "name, src, dst",
    [
        ("astronaut", (4000, 3000), (2048, 1536)),  # a 12 MP photo to the default 2048 px
        ("coffee", (3000, 4000), (1536, 2048)),  # portrait
        ("chelsea", (1210, 2600), (300, 605)),  # tall: Pillow runs the vertical pass first
        ("astronaut", (900, 1400), (1200, 500)),  # wider, shorter: vertical first
        ("coffee", (700, 800), (1500, 1700)),  # enlarged both ways
        ("chelsea", (1500, 600), (1499, 600)),  # one column less: horizontal pass only
        ("astronaut", (640, 900), (640, 333)),  # vertical pass only
        ("coffee", (1777, 1333), (97, 61)),  # a strong, odd reduction
    ],
)
def test_same_pixels_as_pillow(name, src, dst):
    img = _photo(name, src)
    assert src[0] * src[1] >= MIN_PIXELS
    got = np.asarray(resize_lanczos(img, dst))
    want = np.asarray(img.resize(dst, Image.Resampling.LANCZOS))
    assert got.shape == want.shape and np.array_equal(got, want), int(np.abs(got.astype(int) - want).max())
    assert np.array_equal(resize_array(np.asarray(img), dst), want)  # the array form the tokenizer uses


def test_small_and_non_rgb_images_are_pillows_own():
    grey = Image.fromarray(data.camera()).resize((900, 700))
    assert np.array_equal(np.asarray(resize_lanczos(grey, (300, 233))),
                          np.asarray(grey.resize((300, 233), Image.Resampling.LANCZOS)))  # fmt: skip
    small = _photo("coffee", (300, 200))
    assert resize_lanczos(small, (150, 100)).tobytes() == small.resize((150, 100), Image.Resampling.LANCZOS).tobytes()


def test_weights_sum_to_one_in_fixed_point():
    bounds, weights, ksize = coefficients(4000, 2048)
    assert ksize == 2 * int(np.ceil(3 * 4000 / 2048)) + 1
    sums = weights.sum(1)
    assert np.all(np.abs(sums - (1 << 22)) <= ksize)  # each rounded weight is off by at most half a unit
    assert bounds[0, 0] == 0 and bounds[-1].sum() == 4000


def test_load_image_reduces_a_jpeg_like_pillow(tmp_path):
    path = tmp_path / "big.jpg"
    _photo("astronaut", (4000, 3000)).save(path, quality=90)
    with Image.open(path) as im:
        want = np.asarray(im.convert("RGB").resize((2048, 1536), Image.Resampling.LANCZOS))
    assert np.array_equal(np.asarray(load_image(path, 2048)), want)


@pytest.mark.parametrize("src, dst, gap", [((4000, 3000), (512, 384), 2.0), ((1200, 5000), (123, 512), 2.0),
                                           ((2560, 1600), (512, 320), 3.0)])  # fmt: skip
def test_reducing_gap_gives_pillows_pixels(src, dst, gap):
    """fgaesq-lite's global view: a box reduction by whole factors first, then LANCZOS from a fractional box."""
    img = _photo("chelsea", src)
    want = np.asarray(img.resize(dst, Image.Resampling.LANCZOS, reducing_gap=gap))
    assert np.array_equal(np.asarray(resize_lanczos(img, dst, reducing_gap=gap)), want)
