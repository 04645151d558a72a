"""Finding photos in the paths a user gives on the command line."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from fgaesq.io.image import IMAGE_EXTENSIONS, UNSUPPORTED_EXTENSIONS


def natural_key(path: str | os.PathLike) -> tuple:
    """Sort key that orders IMG_9 before IMG_10 (digit runs compared as numbers)."""
    parts = re.split(r"(\d+)", str(path))
    return tuple((0, int(t), "") if t.isdigit() else (1, 0, t.lower()) for t in parts)


def is_candidate(path: Path) -> bool:
    """Whether a file found in a folder should be tried as a photo (known image or image-like extension)."""
    if path.name.startswith("."):
        return False
    suffix = path.suffix.lower()
    return suffix in IMAGE_EXTENSIONS or suffix in UNSUPPORTED_EXTENSIONS


def list_images(folder: str | os.PathLike, *, recursive: bool = False) -> list[Path]:
    """Image-like names in a folder (in natural path order); sidecars and other files are ignored.

    Entries with an image name that are not regular files (FIFOs, sockets, dangling or looping links) are kept so
    that `load_image` reports each with a reason instead of them vanishing silently.
    """
    root = Path(folder)
    it = root.rglob("*") if recursive else root.iterdir()
    return sorted((p for p in it if is_candidate(p) and not _hidden(p, root) and not p.is_dir()), key=natural_key)


def _hidden(path: Path, root: Path) -> bool:
    """True when a folder between root and path is hidden (e.g. .thumbnails)."""
    return any(part.startswith(".") for part in path.relative_to(root).parts[:-1])


def collect_paths(paths: Iterable[str | os.PathLike], *, recursive: bool = False) -> list[Path]:
    """Expand files and folders into a de-duplicated list of files; explicit files are kept whatever their type."""
    out: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        p = Path(raw)
        found = list_images(p, recursive=recursive) if p.is_dir() else [p]
        for f in found:
            key = Path(os.path.realpath(f))  # never raises, even on link loops
            if key not in seen:
                seen.add(key)
                out.append(f)
    return out
