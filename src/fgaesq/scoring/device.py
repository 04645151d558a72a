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


def autocast_dtype(device: torch.device, precision: str = "auto") -> torch.dtype | None:
    """bf16 on GPUs that support it, else fp16; None (full float32) on the CPU or when precision='fp32'."""
    if precision == "fp32" or device.type == "cpu":
        return None
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
