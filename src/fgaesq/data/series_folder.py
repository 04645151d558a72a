"""Folder-per-series layout: `<root>/<series>/` holding the images and a `ranking.txt`.

`ranking.txt` lists the series' image file names, best first, one per line (blank lines and `#` comments
ignored). Images of the folder not listed are not used. Every pair of listed images becomes a hard label
(p = 1 for the better one).
"""

from __future__ import annotations

from pathlib import Path

from fgaesq.data.errors import DataFormatError
from fgaesq.data.records import PairLabel, SeriesRecord

RANKING_FILE = "ranking.txt"


def read_series_folder(series_dir: str | Path, *, category: str = "") -> SeriesRecord:
    """Read one series folder (its `ranking.txt`)."""
    series_dir = Path(series_dir)
    rank_file = series_dir / RANKING_FILE
    if not rank_file.is_file():
        raise DataFormatError(rank_file, None, f"missing {RANKING_FILE} (one image name per line, best first)")
    names: list[str] = []
    with open(rank_file, encoding="utf-8") as fh:
        for ln, raw in enumerate(fh, 1):
            name = raw.strip()
            if not name or name.startswith("#"):
                continue
            if name in names:
                raise DataFormatError(rank_file, ln, f"{name} listed twice")
            if not (series_dir / name).is_file():
                raise DataFormatError(rank_file, ln, f"image not found: {series_dir / name}")
            names.append(name)
    if len(names) < 2:
        raise DataFormatError(rank_file, None, "a series needs at least 2 ranked images")
    n = len(names)
    pairs = [PairLabel(i, j, 1.0) for i in range(n) for j in range(i + 1, n)]
    return SeriesRecord(series_dir.name, [series_dir / x for x in names], pairs, list(range(n)), category)


def read_series_folders(root: str | Path) -> list[SeriesRecord]:
    """Read every sub-folder of `root` that holds a `ranking.txt` (sorted by name)."""
    root = Path(root)
    dirs = sorted(d for d in root.iterdir() if d.is_dir() and (d / RANKING_FILE).is_file())
    if not dirs:
        raise DataFormatError(root, None, f"no sub-folder with a {RANKING_FILE}")
    return [read_series_folder(d) for d in dirs]
