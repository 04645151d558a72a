"""Real source photos for the known-order benchmark, each with its licence; absent sources are skipped."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.data_sources import clive_dir

OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")
OPENCV_COPYRIGHT = Path("/usr/share/doc/opencv-doc/copyright")
MATE_DIR = Path("/usr/share/backgrounds/mate")
MATE_COPYRIGHT = Path("/usr/share/doc/mate-backgrounds/copyright")

# skimage.data photos (real photographs; the licence is read from each loader's docstring)
SKIMAGE_PHOTOS = (
    "astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry", "retina",
    "camera", "coins",
)  # fmt: skip
# opencv-doc sample photographs (drawings, charts, logos and stereo/calibration sets left out)
OPENCV_PHOTOS = (
    "aero1.jpg", "aero3.jpg", "apple.jpg", "baboon.jpg", "building.jpg", "butterfly.jpg", "fruits.jpg",
    "home.jpg", "lena.jpg", "messi5.jpg", "orange.jpg", "squirrel_cls.jpg", "stuff.jpg", "leuvenA.jpg",
    "HappyFish.jpg", "board.jpg", "graf1.png", "pic1.png", "rubberwhale1.png", "basketball1.png", "left.jpg",
)  # fmt: skip


@dataclass(frozen=True)
class Source:
    """One source photo: a stable id, the set it comes from, its licence, and a loader."""

    id: str
    origin: str
    licence: str
    load: Callable[[], np.ndarray]


def _rgb(path: Path) -> Callable[[], np.ndarray]:
    return lambda: np.asarray(Image.open(path).convert("RGB"))


def clive_sources(limit: int) -> list[Source]:
    """The first ``limit`` CLIVE photos in sorted file order (CLIVE licence: LIVE-NOTICE.txt)."""
    root = clive_dir()
    labels = root / "labels.csv"
    if not labels.is_file():
        return []
    with labels.open(newline="") as fh:
        names = sorted(row["image"] for row in csv.DictReader(fh))
    lic = "LIVE In the Wild (CLIVE) notice, see LIVE-NOTICE.txt (use/copy/modify/distribute with notice)"
    return [Source(f"clive/{n}", "clive", lic, _rgb(root / "images" / n)) for n in names[:limit]]


def clive_val_names(seed: int = 0, share: float = 0.2) -> set[str]:
    """The CLIVE images held out for validation of the coarse branch: ``share`` of labels.csv's rows, drawn by a
    permutation with ``seed`` (train_lite's CLIVE split; the same photos are never series bases for training)."""
    with (clive_dir() / "labels.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    perm = np.random.default_rng(seed).permutation(len(rows))
    return {rows[i]["image"] for i in perm[: int(round(share * len(rows)))].tolist()}


def clive_train_sources(limit: int, skip: int = 0) -> list[Source]:
    """Up to ``limit`` CLIVE photos outside the coarse validation split, in sorted file order after the first
    ``skip`` CLIVE photos (those that ``clive_sources(skip)`` already uses): extra train-only series bases."""
    if limit <= 0 or not (clive_dir() / "labels.csv").is_file():
        return []
    held = clive_val_names()
    taken = {s.id for s in clive_sources(skip)}
    return [s for s in clive_sources(10**9) if s.id not in taken and s.id.split("/", 1)[1] not in held][:limit]


def skimage_sources() -> list[Source]:
    """Photographs bundled with scikit-image, licence from each loader's docstring."""
    try:
        import skimage.data as data
    except ImportError:
        return []
    out = []
    for name in SKIMAGE_PHOTOS:
        fn = getattr(data, name, None)
        if fn is None:
            continue
        lines = [ln.strip() for ln in (fn.__doc__ or "").splitlines()]
        lic = " ".join(ln for ln in lines if re.search(r"(?i)copyright|public domain|CC0|licen", ln))

        def load(fn=fn) -> np.ndarray:
            a = np.asarray(fn())
            return np.repeat(a[..., None], 3, axis=2) if a.ndim == 2 else a[..., :3]

        out.append(Source(f"skimage/{name}", "skimage", lic or "scikit-image sample data", load))
    return out


def opencv_sources() -> list[Source]:
    """Photographs from Debian's opencv-doc samples (BSD-3-Clause per its copyright file)."""
    if not OPENCV_DATA.is_dir():
        return []
    lic = "BSD-3-Clause (Debian opencv-doc, /usr/share/doc/opencv-doc/copyright, Files: data/*)"
    return [
        Source(f"opencv/{n}", "opencv-doc", lic, _rgb(OPENCV_DATA / n))
        for n in OPENCV_PHOTOS
        if (OPENCV_DATA / n).is_file()
    ]


def _mate_licences() -> dict[str, str]:
    out: dict[str, str] = {}
    if not MATE_COPYRIGHT.is_file():
        return out
    files: list[str] = []
    in_files = False
    for line in MATE_COPYRIGHT.read_text(errors="replace").splitlines():
        if line.startswith("Files:"):
            files, in_files = line.split(":", 1)[1].split(), True
        elif in_files and line.startswith((" ", "\t")) and line.strip():
            files += line.split()
        else:
            in_files = False
            if line.startswith("License:") and files:
                for f in files:
                    out[f] = line.split(":", 1)[1].strip()
                files = []
    return out


def mate_sources() -> list[Source]:
    """Nature photographs from Debian's mate-backgrounds, licence per file from its copyright file."""
    if not MATE_DIR.is_dir():
        return []
    lic = _mate_licences()
    out = []
    for path in sorted((MATE_DIR / "nature").glob("*.jpg")):
        rel = f"nature/{path.name}"
        licence = lic.get(rel) or lic.get("*") or "see /usr/share/doc/mate-backgrounds/copyright"
        out.append(
            Source(
                f"mate/{path.stem}", "mate-backgrounds", f"{licence} (Debian mate-backgrounds)", _rgb(path)
            )
        )
    return out


def all_sources(clive_limit: int) -> list[Source]:
    """Every available source photo, in a fixed order."""
    return clive_sources(clive_limit) + skimage_sources() + opencv_sources() + mate_sources()
