"""A flat folder of camera bursts for speed benchmarks: real photos at camera resolution with EXIF times.

Each burst is one real photo (Debian mate-backgrounds when installed, else scikit-image samples) upscaled to
the requested size; frame i has a small shift, a blur and an exposure change, and an EXIF DateTimeOriginal
0.4 s after the previous frame; bursts are 5 minutes apart. Files are named in shooting order.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

MATE = Path("/usr/share/backgrounds/mate/nature")
MATE_PHOTOS = ("Wood.jpg", "GreenMeadow.jpg", "LadyBird.jpg", "Garden.jpg", "Dune.jpg", "Storm.jpg", "Aqua.jpg",
               "FreshFlower.jpg", "RainDrops.jpg", "TwoWings.jpg")


def sources() -> list[tuple[str, Image.Image]]:
    """The real photos bursts are made from (name, RGB image)."""
    found = [(n, Image.open(MATE / n).convert("RGB")) for n in MATE_PHOTOS if (MATE / n).is_file()]
    if found:
        return found
    from skimage import data

    return [(n, Image.fromarray(getattr(data, n)())) for n in ("astronaut", "coffee", "chelsea", "rocket")]


def _exif(when: datetime) -> Image.Exif:
    exif = Image.Exif()
    ifd = exif.get_ifd(0x8769)
    ifd[36867] = when.strftime("%Y:%m:%d %H:%M:%S")
    ifd[37521] = f"{when.microsecond // 10000:02d}"
    exif[0x0110] = "fgaesq benchmark camera"
    return exif


def _fit(img: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Centre crop to the aspect of size, then resize (LANCZOS) to size."""
    w, h = img.size
    tw, th = size
    if w * th > h * tw:
        nw = h * tw // th
        img = img.crop(((w - nw) // 2, 0, (w - nw) // 2 + nw, h))
    else:
        nh = w * th // tw
        img = img.crop((0, (h - nh) // 2, w, (h - nh) // 2 + nh))
    return img.resize(size, Image.Resampling.LANCZOS)


def frame(base: Image.Image, i: int) -> Image.Image:
    """Frame i of a burst: shifted by a few pixels, blurred by up to 2.5 px, exposure within +-12 %."""
    w, h = base.size
    dx, dy = (7 * i) % 17 - 8, (5 * i) % 13 - 6
    img = base.transform(base.size, Image.Transform.AFFINE, (1, 0, dx, 0, 1, dy), Image.Resampling.BILINEAR)
    radius = (0.0, 1.2, 0.4, 2.5, 0.8, 1.8)[i % 6]
    if radius:
        img = img.filter(ImageFilter.GaussianBlur(radius))
    gain = 1.0 + 0.12 * ((i * 37) % 5 - 2) / 2
    arr = np.clip(np.asarray(img, dtype=np.float32) * gain, 0, 255).astype(np.uint8)
    return Image.fromarray(arr)


def make_shoot(folder: Path, bursts: int = 4, per_burst: int = 10, size: tuple[int, int] = (4000, 3000),
               quality: int = 90) -> list[list[Path]]:
    """Write bursts x per_burst JPEGs of `size` into folder (flat); returns the paths per burst."""
    folder.mkdir(parents=True, exist_ok=True)
    photos = sources()
    start = datetime(2025, 5, 17, 10, 0, 0)
    out, counter = [], 1
    for b in range(bursts):
        _, src = photos[b % len(photos)]
        base = _fit(src, size)
        paths = []
        for i in range(per_burst):
            p = folder / f"DSC_{counter:04d}.jpg"
            frame(base, i).save(p, quality=quality, exif=_exif(start + timedelta(minutes=5 * b, seconds=0.4 * i)))
            paths.append(p)
            counter += 1
        out.append(paths)
    return out
