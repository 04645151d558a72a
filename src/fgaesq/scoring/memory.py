"""Keep freed memory in the process for the next photo instead of handing it back to the OS after each one.

Scoring a 12 MP photo allocates ~40 MB for its pixels and ~100 MB of activations, then frees them. By default
glibc maps buffers this large afresh on every allocation (and trims its heap on free), and Pillow keeps no freed
image blocks, so every photo pays ~25,000 page faults: a quarter of fgaesq-lite's CPU time per photo. Keeping up
to 256 MB of freed memory (128 MB in each) removes them. ``FGAESQ_KEEP_MEMORY=0`` leaves the allocators' defaults.
"""

from __future__ import annotations

import ctypes
import os
import sys

#: glibc mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
#: Freed memory kept in the process: this much at the heap top before glibc trims it, and as much again in
#: Pillow's cache of 16 MB image blocks (256 MB in all at most).
KEEP_BYTES = 128 << 20
#: Allocations up to this size come from the heap (glibc's own upper bound for its dynamic threshold).
MMAP_THRESHOLD = 32 << 20

_done: bool | None = None


def retain_freed_memory() -> bool:
    """Once per process (inherited by forked workers): glibc keeps freed buffers, Pillow keeps freed image blocks.

    Returns whether the allocators were tuned (False off Linux/glibc or with FGAESQ_KEEP_MEMORY=0).
    """
    global _done
    if _done is not None:
        return _done
    _done = False
    if os.environ.get("FGAESQ_KEEP_MEMORY", "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    from PIL import Image

    core = Image.core
    if hasattr(core, "set_blocks_max") and core.get_blocks_max() == 0:
        core.set_blocks_max(max(1, KEEP_BYTES // core.get_block_size()))
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018 - glibc only (musl has no mallopt thresholds)
        ok = libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and libc.mallopt(_M_TRIM_THRESHOLD, KEEP_BYTES) == 1
    except (OSError, AttributeError):
        return False
    _done = bool(ok)
    return _done
