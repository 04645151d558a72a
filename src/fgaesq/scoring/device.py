"""Device choice (the same rule for every command) and mixed precision for scoring."""

from __future__ import annotations

import contextlib

import torch

DEVICES = ("auto", "cpu", "cuda", "mps")


def pick_device(device: str = "auto") -> torch.device:
    """`auto` takes CUDA, then Apple MPS, then the CPU; an explicit device that is not there is an error."""
    name = (device or "auto").lower()
    cuda_ok = torch.cuda.is_available()
    mps_ok = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if name == "auto":
        return torch.device("cuda" if cuda_ok else "mps" if mps_ok else "cpu")
    if name.startswith("cuda") and not cuda_ok:
        raise ValueError(f"--device {device}: CUDA is not available here; use --device cpu or auto")
    if name == "mps" and not mps_ok:
        raise ValueError("--device mps: Apple MPS is not available here; use --device cpu or auto")
    if name.split(":")[0] not in DEVICES[1:]:
        raise ValueError(f"--device must be one of {', '.join(DEVICES)}, not {device!r}")
    return torch.device(name)


PRECISIONS = ("auto", "fp32", "bf16", "fp16")


def autocast_dtype(device: torch.device, precision: str = "auto") -> torch.dtype | None:
    """The autocast dtype for scoring: 'auto' = bf16 on GPUs that support it, else fp16, and full float32 (None)
    on the CPU; 'bf16' on the CPU is an explicit opt-in (fast where the CPU has AMX / AVX-512 BF16, scores move)."""
    if precision not in PRECISIONS:
        raise ValueError(f"--precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
    if precision == "fp32":
        return None
    if device.type == "cpu":
        if precision == "fp16":
            raise ValueError("--precision fp16 is for GPUs; on the CPU use bf16 (or fp32, the default)")
        return torch.bfloat16 if precision == "bf16" else None
    if precision == "bf16":
        return torch.bfloat16
    if precision == "fp16":
        return torch.float16
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float16


def autocast(device: torch.device, dtype: torch.dtype | None):
    """An autocast context for dtype on device, or a no-op context."""
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)
