"""numba for the tokenizer's compiled kernels (the package-wide helper lives in `fgaesq._jit`)."""

from fgaesq._jit import available, compile_kernel, njit

__all__ = ["available", "compile_kernel", "njit"]
