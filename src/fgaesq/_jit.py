"""numba for fgaesq's compiled kernels: `njit` (None without numba) and the one way kernels are compiled."""

from __future__ import annotations

try:
    from numba import njit
except ImportError:  # pragma: no cover - numba is a dependency; each kernel module has a torch fallback
    njit = None


def available() -> bool:
    """Whether compiled kernels can be used (numba is importable)."""
    return njit is not None


def compile_kernel(fn):
    """njit with an on-disk cache where numba can write one (beside the package or in the user's cache folder);
    compiled per process where it cannot (read-only install, no writable home)."""
    opts = {"nogil": True, "boundscheck": False, "error_model": "numpy"}
    try:
        return njit(cache=True, **opts)(fn)
    except RuntimeError:  # numba: "cannot cache function ...: no locator available"
        return njit(cache=False, **opts)(fn)
