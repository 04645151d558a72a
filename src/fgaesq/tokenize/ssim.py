"""Per-cell SSIM in torch, batched over cells, matching scikit-image's `structural_similarity` defaults."""

from __future__ import annotations

import torch

WIN = 7
K1, K2 = 0.01, 0.03


def _box_valid(x: torch.Tensor) -> torch.Tensor:
    """7x7 mean over the valid interior (the 3-px border is dropped), axis 0 first as scipy does; float64 sums."""
    d = x.to(torch.float64)
    d = d.unfold(-2, WIN, 1).sum(-1) / WIN
    d = d.to(torch.float32).to(torch.float64)
    d = d.unfold(-1, WIN, 1).sum(-1) / WIN
    return d.to(torch.float32)


def cell_ssim(a: torch.Tensor, b: torch.Tensor, *, chunk: int | None = None) -> torch.Tensor:
    """Mean SSIM of (N, C, h, w) float32 cells in [0, 1] (data range 1), averaged over channels: (N,) float64.

    Same arithmetic as scikit-image (float32 maps, 7x7 uniform window, sample covariance 49/48, mean over the
    interior without a 3-px border); the window never reaches the reflected border, so no padding is needed.
    """
    if a.shape != b.shape:
        raise ValueError(f"cell stacks differ in shape: {tuple(a.shape)} vs {tuple(b.shape)}")
    if chunk is None:  # small chunks stay in the CPU cache; a GPU wants big launches
        chunk = 128 if a.device.type == "cpu" else 8192
    out = []
    c1 = torch.tensor((K1 * 1.0) ** 2, dtype=torch.float32)
    c2 = torch.tensor((K2 * 1.0) ** 2, dtype=torch.float32)
    cov_norm = torch.tensor(WIN * WIN / (WIN * WIN - 1.0), dtype=torch.float32)
    for s in range(0, a.shape[0], chunk):
        x = a[s : s + chunk].to(torch.float32)
        y = b[s : s + chunk].to(torch.float32)
        c1d, c2d, cn = c1.to(x.device), c2.to(x.device), cov_norm.to(x.device)
        ux, uy = _box_valid(x), _box_valid(y)
        uxx, uyy, uxy = _box_valid(x * x), _box_valid(y * y), _box_valid(x * y)
        vx = cn * (uxx - ux * ux)
        vy = cn * (uyy - uy * uy)
        vxy = cn * (uxy - ux * uy)
        a1 = 2 * ux * uy + c1d
        a2 = 2 * vxy + c2d
        b1 = ux**2 + uy**2 + c1d
        b2 = vx + vy + c2d
        ssim_map = (a1 * a2) / (b1 * b2)
        per_channel = ssim_map.to(torch.float64).mean(dim=(-2, -1))
        out.append(per_channel.mean(dim=-1))
    if not out:
        return torch.zeros(0, dtype=torch.float64, device=a.device)
    return torch.cat(out)


def cell_importance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Importance = clip(1 - mean SSIM, 0, 1) per cell pair, (N,) float64 on the input's device."""
    return (1.0 - cell_ssim(a, b)).clamp(0.0, 1.0)
