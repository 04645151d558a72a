"""The image catalogue: series = direct sub-folders of ROOT holding at least two images.

A flat ROOT (images directly in it, no series sub-folders) is grouped as `fgaesq rank --series-by time` groups
it: by capture time (EXIF, else file time), a new series after a 30 s gap, named `series-001`, ….

Every image the app serves is looked up here by (series, file name) — never built from a raw URL path —
and its resolved location must lie under ROOT, so traversal (`..`, encoded or not) and symlinks that
point out of ROOT are refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

#: Formats a browser shows as they are (served byte for byte, full quality).
BROWSER_EXTS = frozenset({".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".avif"})
#: Formats browsers do not show: converted losslessly to PNG when served.
CONVERT_EXTS = frozenset({".tif", ".tiff", ".heic", ".heif"})
IMAGE_EXTS = BROWSER_EXTS | CONVERT_EXTS
MAX_NAME = 255


class CatalogError(ValueError):
    """ROOT is missing or holds no series; the message names the folder and the fix."""


@dataclass(frozen=True)
class Series:
    """One series: its folder name under ROOT and its image file names (sorted)."""

    name: str
    images: tuple[str, ...]
    folder: str | None = None  # folder under ROOT holding the images: the series name unless grouped from ROOT

    @property
    def directory(self) -> str:
        """The images' folder relative to ROOT ("" for series grouped from a flat ROOT)."""
        return self.name if self.folder is None else self.folder

    def pairs(self) -> Iterator[tuple[str, str]]:
        """Every unordered pair (lo, hi) of image names, lo < hi."""
        return combinations(self.images, 2)

    @property
    def n_pairs(self) -> int:
        """Number of unordered pairs, n·(n−1)/2."""
        n = len(self.images)
        return n * (n - 1) // 2


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def _safe_name(name: str) -> bool:
    return (
        0 < len(name) <= MAX_NAME
        and not name.startswith(".")
        and "/" not in name
        and "\\" not in name
        and "\x00" not in name
        and name.isprintable()
    )


def _flat_series(base: Path) -> dict[str, Series]:
    """Series of a flat ROOT, grouped by capture time like `fgaesq rank --series-by time` (≥ 2 images each)."""
    from fgaesq.io import capture_time
    from fgaesq.rank.series import discover_series

    images = [
        f for f in base.iterdir()
        if f.suffix.lower() in IMAGE_EXTS and _safe_name(f.name) and f.is_file() and _inside(f.resolve(), base)
    ]
    if len(images) < 2:
        return {}
    times = [capture_time(f).timestamp for f in images]
    groups, _ = discover_series(images, base, series_by="time", times=times)
    return {g.name: Series(g.name, tuple(sorted(p.name for p in g.images)), "") for g in groups if len(g) >= 2}


@dataclass
class Catalog:
    """Series found under `root` (resolved); built with `Catalog.scan`."""

    root: Path
    series: dict[str, Series] = field(default_factory=dict)

    @classmethod
    def scan(cls, root: str | Path) -> Catalog:
        """Find the series under `root`: direct sub-folders with ≥ 2 images inside ROOT (hidden ones skipped)."""
        base = Path(root).expanduser()
        if not base.is_dir():
            raise CatalogError(f"{root}: not a folder; give the folder whose sub-folders are the series")
        base = base.resolve()
        found: dict[str, Series] = {}
        for sub in sorted(base.iterdir()):
            if not _safe_name(sub.name) or not sub.is_dir() or not _inside(sub.resolve(), base):
                continue
            names = []
            for f in sorted(sub.iterdir()):
                if f.suffix.lower() not in IMAGE_EXTS or not _safe_name(f.name) or not f.is_file():
                    continue
                if _inside(f.resolve(), base):
                    names.append(f.name)
            if len(names) >= 2:
                found[sub.name] = Series(sub.name, tuple(names))
        if not found:
            found = _flat_series(base)
        if not found:
            raise CatalogError(
                f"{root}: no series found; put each series' images (JPEG, PNG, WebP, TIFF, HEIC …) "
                "in its own sub-folder, at least two per folder, or bursts (shots seconds apart) directly in it"
            )
        return cls(base, found)

    def pairs(self) -> Iterator[tuple[str, str, str]]:
        """Every (series, lo, hi) pair of the catalogue."""
        for s in self.series.values():
            for lo, hi in s.pairs():
                yield s.name, lo, hi

    @property
    def n_pairs(self) -> int:
        """Number of pairs over all series."""
        return sum(s.n_pairs for s in self.series.values())

    def has_pair(self, series: str, a: str, b: str) -> bool:
        """True when a and b are two different images of the same known series."""
        s = self.series.get(series)
        return s is not None and a != b and a in s.images and b in s.images

    def image_path(self, series: str, name: str) -> Path | None:
        """The file of a known image, or None: unknown names, and anything resolving outside ROOT, are refused."""
        s = self.series.get(series)
        if s is None or name not in s.images:
            return None
        path = (self.root / s.directory / name).resolve()
        if not _inside(path, self.root) or not path.is_file():
            return None
        return path
