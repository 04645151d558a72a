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


def _torch_reference(a: np.ndarray, b: np.ndarray, work_a: tuple[int, int], work_b: tuple[int, int]) -> np.ndarray:
    from fgaesq.tokenize.pixels import raw_cells

    rows = min(work_a[0], work_b[0]) // 32
    ca, cb = raw_cells(a, work_a, rows, "cpu"), raw_cells(b, work_b, rows, "cpu")
    m = min(ca.shape[0], cb.shape[0])
    return cell_ssim(ca[:m], cb[:m]).numpy()


@pytest.mark.parametrize(
    ("crop_a", "crop_b", "work_a", "work_b"),
    [
        ((512, 512), (512, 512), (512, 512), (512, 512)),  # same layout: the row-strip kernel
        ((500, 470), (300, 451), (512, 480), (320, 448)),  # pad vs crop, 15 vs 14 cells a row: raster pairing
        ((300, 470), (300, 480), (320, 480), (320, 480)),  # same cell columns, one image zero-padded
    ],
)
def test_compiled_kernel_matches_torch_bit_for_bit(crop_a, crop_b, work_a, work_b):
    """The numba kernel that pair mode uses on the CPU gives the torch path's SSIM exactly, on real photos."""
    from fgaesq.tokenize import ssim_kernel

    if not ssim_kernel.available():
        pytest.skip("numba is not installed")
    a = data.astronaut()[: crop_a[0], : crop_a[1]].copy()
    b = np.clip(data.astronaut()[: crop_b[0], : crop_b[1]].astype(np.int16) + 12, 0, 255).astype(np.uint8)
    b[100:200, 50:300] = data.chelsea()[:100, :250]
    ref = _torch_reference(a, b, work_a, work_b)
    rows = min(work_a[0], work_b[0]) // 32
    ca, cb = work_a[1] // 32, work_b[1] // 32
    got = ssim_kernel.image_cell_ssim(a, b, ca, cb, rows * min(ca, cb))
    assert got.shape == ref.shape and np.array_equal(got, ref)
    assert got.min() < 0.9 and got.max() <= 1.0


def _float64_ssim(a: np.ndarray, b: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Per-cell mean SSIM computed entirely in float64 (the exact value both kernels approximate)."""
    x = a[: rows * 32, : cols * 32].astype(np.float64) / 255
    y = b[: rows * 32, : cols * 32].astype(np.float64) / 255

    def cells(m):
        return torch.from_numpy(m).reshape(rows, 32, cols, 32, 3).permute(0, 2, 4, 1, 3).reshape(-1, 3, 32, 32)

    def box(t):
        return t.unfold(-2, 7, 1).unfold(-2, 7, 1).mean((-1, -2))

    cx, cy = cells(x), cells(y)
    ux, uy = box(cx), box(cy)
    vx = (box(cx * cx) - ux * ux) * 49 / 48
    vy = (box(cy * cy) - uy * uy) * 49 / 48
    vxy = (box(cx * cy) - ux * uy) * 49 / 48
    c1, c2 = 0.01**2, 0.03**2
    s = (2 * ux * uy + c1) * (2 * vxy + c2) / ((ux**2 + uy**2 + c1) * (vx + vy + c2))
    return s.mean((-1, -2)).mean(-1).numpy()


def test_fast_kernel_is_as_accurate_as_the_exact_one_on_real_photos():
    """The integer fast path (compat off) stays within 3e-5 of the release's float32 bits and is no further from
    the float64 value than they are; identical cells give exactly 1."""
    from fgaesq.tokenize import ssim_kernel

    if not ssim_kernel.available():
        pytest.skip("numba is not installed")
    a = data.astronaut()
    b = np.clip(a.astype(np.int16) + np.random.default_rng(0).normal(0, 6, a.shape), 0, 255).astype(np.uint8)
    b[:128, :256] = a[:128, :256]  # the first 4 cell rows' left half unchanged
    rows, cols = 16, 16
    exact = ssim_kernel.image_cell_ssim(a, b, cols, cols, rows * cols)
    fast = ssim_kernel.image_cell_ssim(a, b, cols, cols, rows * cols, exact=False)
    truth = _float64_ssim(a, b, rows, cols)
    assert np.abs(fast - exact).max() <= 3e-5
    assert np.abs(fast - truth).max() <= np.abs(exact - truth).max() + 1e-7
    same = np.zeros((rows, cols), bool)
    same[:4, :8] = True  # the cells of the unchanged block (a window never crosses a cell)
    assert np.all(fast.reshape(rows, cols)[same] == 1.0) and np.all(exact.reshape(rows, cols)[same] == 1.0)
    assert fast.reshape(rows, cols)[~same].max() < 0.99
