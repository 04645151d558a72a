"""The compiled token-pixel kernels against the torch path they replace, on a real photo."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage import data

from fgaesq.tokenize import blocks_kernel
from fgaesq.tokenize.pixels import downscale_cells, gather_blocks

pytestmark = pytest.mark.skipif(not blocks_kernel.available(), reason="numba is not installed")


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return data.coffee()[:390, :590].copy()  # 400 x 600 photo cut to sizes that are not multiples of 32 / 16


def test_fine_blocks_are_the_normalised_pixels_bit_for_bit(photo):
    """16-px blocks, including blocks partly or wholly past the image edge (zeros there)."""
    rng = np.random.default_rng(0)
    ys, xs = 16 * rng.integers(0, 26, 400), 16 * rng.integers(0, 38, 400)
    want = gather_blocks(photo, ys, xs, 16)
    got = blocks_kernel.fine_blocks(photo, ys, xs)
    assert got.shape == (400, 3, 16, 16) and torch.equal(got, want)
    outside = (ys >= 390) | (xs >= 590)
    assert outside.any() and torch.all(got[torch.from_numpy(outside)] == 0)


def test_coarse_blocks_match_the_float64_filter(photo):
    """32-px cells through the 32 -> 16 bicubic filter: equal to the matmul path to float32 rounding."""
    rng = np.random.default_rng(1)
    ys, xs = 32 * rng.integers(0, 13, 300), 32 * rng.integers(0, 19, 300)
    want = downscale_cells(gather_blocks(photo, ys, xs, 32))
    got = blocks_kernel.coarse_blocks(photo, ys, xs)
    assert got.shape == (300, 3, 16, 16)
    assert (got - want).abs().max().item() <= 2.4e-7  # one float32 ulp at |x| < 2.7
    assert (got != want).float().mean().item() < 1e-3
    assert got.std().item() > 0.3  # real content, not a constant
