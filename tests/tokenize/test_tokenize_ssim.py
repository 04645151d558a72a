"""Batched torch SSIM per 32-px cell against scikit-image's structural_similarity, CPU and GPU."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage import data
from skimage.metrics import structural_similarity

from fgaesq.tokenize import cell_importance, cell_ssim


def _cells(img: np.ndarray, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ys = rng.integers(0, img.shape[0] - 32, n)
    xs = rng.integers(0, img.shape[1] - 32, n)
    return np.stack([img[y:y + 32, x:x + 32] for y, x in zip(ys, xs, strict=True)]).astype(np.float32) / 255


@pytest.fixture(scope="module")
def cell_pairs() -> tuple[np.ndarray, np.ndarray]:
    a = _cells(data.astronaut(), 40, 0)
    b = a.copy()
    b[:10] = np.clip(b[:10] * 1.3, 0, 1)  # brighter
    b[10:20] = _cells(data.chelsea(), 10, 1)  # unrelated content
    b[20:30] += np.random.default_rng(2).normal(0, 0.05, b[20:30].shape).astype(np.float32)  # noise
    return a, b  # 30..39 identical


def _skimage(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.array([
        np.mean([structural_similarity(x[..., c], y[..., c], data_range=1.0) for c in range(3)])
        for x, y in zip(a, b, strict=True)
    ])


def _to_torch(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(a).permute(0, 3, 1, 2).contiguous()


def test_matches_skimage_defaults(cell_pairs):
    a, b = cell_pairs
    ours = cell_ssim(_to_torch(a), _to_torch(b)).numpy()
    ref = _skimage(a, b)
    assert np.abs(ours - ref).max() <= 1e-6
    assert np.all(ours[30:] == 1.0) and np.all(ours[:30] < 0.999)
    imp = cell_importance(_to_torch(a), _to_torch(b)).numpy()
    assert np.array_equal(imp, np.clip(1 - ours, 0, 1)) and imp[10:20].min() > imp[:10].max()


def test_chunking_does_not_change_values(cell_pairs):
    a, b = map(_to_torch, cell_pairs)
    assert torch.equal(cell_ssim(a, b, chunk=7), cell_ssim(a, b))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_gpu_equals_cpu(cell_pairs):
    a, b = map(_to_torch, cell_pairs)
    cpu = cell_ssim(a, b)
    gpu = cell_ssim(a.cuda(), b.cuda()).cpu()
    assert torch.allclose(gpu, cpu, atol=1e-6, rtol=0)
