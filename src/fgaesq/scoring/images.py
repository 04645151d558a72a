"""Decoding for scorers: fgaesq.io.load_image with the model's preprocessing, cached per process for paths, and
shared between passes over the same photos within `shared_decode_cache`."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from functools import lru_cache

import numpy as np
from PIL import Image

from fgaesq.io import load_image
from fgaesq.model.registry import Preprocess
from fgaesq.scoring.protocol import ImageRef

#: Default byte budget of `shared_decode_cache` (about 250 photos decoded at 2048 px).
SHARED_BUDGET = 2 << 30
_shared: dict = {"dir": None, "budget": 0, "full": False}


def decode(ref: ImageRef, pre: Preprocess) -> Image.Image:
    """Upright 8-bit RGB (alpha on white), long side <= pre.max_size; JPEG draft decoding unless pre.draft is off."""
    if pre.draft or isinstance(ref, Image.Image) or not pre.max_size:
        return load_image(ref, pre.max_size)
    full = load_image(ref, None)  # no draft: the reduction starts from every decoded pixel
    return full if max(full.size) <= pre.max_size else load_image(full, pre.max_size)


@contextlib.contextmanager
def shared_decode_cache(budget: int = SHARED_BUDGET) -> Iterator[str]:
    """Within the block, `decode_array` keeps decoded photos in a temporary folder (up to ``budget`` bytes and a
    quarter of its free space), so a second pass over the same files, in this process or in workers forked inside
    the block, reads the pixels back (a few ms) instead of decoding again (~80 ms for a 12 MP JPEG). The folder is
    removed on exit."""
    folder = tempfile.mkdtemp(prefix="fgaesq-pixels-")
    before = dict(_shared)
    try:  # never more than a quarter of the free space there (the temporary folder may be in memory)
        budget = min(int(budget), shutil.disk_usage(folder).free // 4)
    except OSError:
        budget = 0
    _shared.update(dir=folder, budget=budget, full=False)
    try:
        yield folder
    finally:
        _shared.update(before)
        shutil.rmtree(folder, ignore_errors=True)


def _shared_file(ref: ImageRef, pre: Preprocess) -> str | None:
    if _shared["dir"] is None or isinstance(ref, Image.Image | bytes | bytearray | memoryview):
        return None
    try:
        st = os.stat(ref)
    except (OSError, TypeError, ValueError):
        return None
    key = f"{os.path.abspath(os.fspath(ref))}|{st.st_mtime_ns}|{st.st_size}|{pre.max_size}|{pre.draft}"
    return os.path.join(_shared["dir"], hashlib.sha1(key.encode("utf-8", "surrogateescape")).hexdigest() + ".npy")


def _room(folder: str, need: int, budget: int) -> bool:
    try:
        used = sum(e.stat().st_size for e in os.scandir(folder) if e.is_file())
    except OSError:
        used = budget
    if used + need > budget:
        _shared["full"] = True  # this process stops looking (the folder only grows during a run)
        return False
    return True


def decode_array(ref: ImageRef, pre: Preprocess) -> np.ndarray:
    """`decode` as an (H, W, 3) uint8 array; inside `shared_decode_cache`, each file is decoded once for all passes."""
    path = _shared_file(ref, pre)
    if path is not None:
        try:
            arr = np.load(path, allow_pickle=False)
            arr.setflags(write=False)  # as a decoded image's array is: the compiled kernels see one array type
            return arr
        except (OSError, ValueError, EOFError):
            pass  # not there yet (or being written): decode it
    arr = np.asarray(decode(ref, pre))
    if path is not None and not _shared.get("full") and _room(_shared["dir"], arr.nbytes, _shared["budget"]):
        tmp = f"{path}.{os.getpid()}.tmp"
        try:
            with open(tmp, "wb") as fh:
                np.save(fh, arr, allow_pickle=False)
            os.replace(tmp, path)  # readers see a whole file or none
        except OSError:  # a full disk only costs the second decode
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    return arr


@lru_cache(maxsize=8)
def _decode_path(path: str, mtime_ns: int, pre: Preprocess) -> Image.Image:
    return decode(path, pre)


def decode_cached(ref: ImageRef, pre: Preprocess) -> Image.Image:
    """`decode`, with paths cached per process (a series' pairs reuse each image n - 1 times in a row)."""
    if isinstance(ref, Image.Image):
        return decode(ref, pre)
    path = os.fspath(ref)
    try:
        mtime_ns = os.stat(path).st_mtime_ns
    except OSError:
        return decode(path, pre)  # load_image names the problem
    return _decode_path(path, mtime_ns, pre)
