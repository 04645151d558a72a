"""Real-photo bursts for ranking tests: skimage.data photos with small shifts, crops and exposure changes.

Each burst is a few frames of one photo taken seconds apart (EXIF DateTimeOriginal + SubSecTimeOriginal);
bursts are minutes apart. Files are named in shooting order, as a camera would.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data

SOURCES = {"astronaut": data.astronaut, "coffee": data.coffee, "chelsea": data.chelsea}


def _variant(arr: np.ndarray, step: int) -> np.ndarray:
    """Frame `step` of a burst: a small shift/crop and an exposure change that grow with the step."""
    h, w = arr.shape[:2]
    dy, dx = (3 * step) % 11, (5 * step) % 13
    crop = arr[dy : h - (step % 2) * 8, dx : w - (step % 3) * 6]
    gain = 1.0 + 0.08 * ((step % 3) - 1)
    return np.clip(crop.astype(np.float64) * gain + 4 * step, 0, 255).astype(np.uint8)


def _exif(when: datetime) -> Image.Exif:
    exif = Image.Exif()
    ifd = exif.get_ifd(0x8769)
    ifd[36867] = when.strftime("%Y:%m:%d %H:%M:%S")
    ifd[37521] = f"{when.microsecond // 10000:02d}"
    exif[0x0110] = "fgaesq test camera"
    return exif


def make_bursts(folder: Path, sizes: tuple[int, ...] = (4, 3, 3), *, max_side: int = 360) -> dict[str, list[Path]]:
    """Write one burst per source photo into folder (flat), returning {burst: [paths in shooting order]}."""
    folder.mkdir(parents=True, exist_ok=True)
    start = datetime(2024, 6, 1, 9, 30, 0)
    out: dict[str, list[Path]] = {}
    counter = 1
    for b, ((name, load), n) in enumerate(zip(SOURCES.items(), sizes, strict=False)):
        img = Image.fromarray(load())
        s = max_side / max(img.size)
        base = np.asarray(img.resize((round(img.width * s), round(img.height * s)), Image.Resampling.LANCZOS))
        paths = []
        for i in range(n):
            when = start + timedelta(minutes=7 * b, seconds=1.25 * i)
            p = folder / f"IMG_{counter:04d}.jpg"
            Image.fromarray(_variant(base, i)).save(p, quality=92, exif=_exif(when))
            paths.append(p)
            counter += 1
        out[name] = paths
    return out
