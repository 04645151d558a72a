"""Decoding for scorers: fgaesq.io.load_image with the model's preprocessing, cached per process for paths."""

from __future__ import annotations

import os
from functools import lru_cache

from PIL import Image

from fgaesq.io import load_image
from fgaesq.model.registry import Preprocess
from fgaesq.scoring.protocol import ImageRef


def decode(ref: ImageRef, pre: Preprocess) -> Image.Image:
    """Upright 8-bit RGB (alpha on white), long side <= pre.max_size; JPEG draft decoding unless pre.draft is off."""
    if pre.draft or isinstance(ref, Image.Image) or not pre.max_size:
        return load_image(ref, pre.max_size)
    full = load_image(ref, None)  # no draft: the reduction starts from every decoded pixel
    return full if max(full.size) <= pre.max_size else load_image(full, pre.max_size)


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
