"""Image decoding for training: EXIF orientation applied, RGB, long side capped (JPEG draft decoding)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageOps


def load_train_image(path: str | Path, max_size: int | None = 2048) -> Image.Image:
    """Decode `path` as RGB with EXIF orientation applied, long side at most `max_size` (None = native)."""
    with Image.open(path) as im:
        if max_size and im.format == "JPEG":
            im.draft("RGB", (max_size, max_size))
        im = ImageOps.exif_transpose(im)
        im = im.convert("RGB")
    if max_size and max(im.size) > max_size:
        s = max_size / max(im.size)
        im = im.resize((max(1, round(im.width * s)), max(1, round(im.height * s))), Image.Resampling.BICUBIC)
    return im
