"""Fine-grained (series) data: one entry point for every format → `SeriesRecord`s.

- our series JSONL (docs/contracts.md; written by `fgaesq calibrate`): `*.jsonl`
- the FGAesthetics release label files: `*.txt` with `images_root` (see `fgaesthetics.py`)
- a folder of series folders, each with a `ranking.txt` (see `series_folder.py`)
"""

from __future__ import annotations

from pathlib import Path

from fgaesq.data.errors import DataFormatError
from fgaesq.data.fgaesthetics import read_fgaesthetics
from fgaesq.data.records import SeriesRecord
from fgaesq.data.series_folder import read_series_folders
from fgaesq.data.series_jsonl import read_series_jsonl


def read_jsonl_series(path: str | Path, *, check_files: bool = True) -> list[SeriesRecord]:
    """Our series JSONL (docs/contracts.md) for training and evaluation: ≥ 2 images, pairs or a ranking.

    A series without pairs gets every pair of its ranking (`SeriesRecord.labelled_pairs`).
    """
    path = Path(path)
    recs = read_series_jsonl(path)
    if not recs:
        raise DataFormatError(path, None, "no series found; expected one JSON object per line")
    for rec in recs:
        where = f"series '{rec.series}'"
        if len(rec.images) < 2:
            raise DataFormatError(path, None, f"{where}: a series needs at least 2 images")
        if not rec.pairs and not rec.ranking:
            raise DataFormatError(path, None, f"{where}: a series needs a 'ranking' or 'pairs'")
        if check_files:
            for p in rec.images:
                if not p.is_file():
                    raise DataFormatError(path, None, f"{where}: image not found: {p}")
        rec.pairs = rec.labelled_pairs()
    return recs


def read_fine(
    spec: str | Path,
    images_root: str | Path | None = None,
    *,
    prob_first_better: bool | None = None,
    check_files: bool = True,
) -> list[SeriesRecord]:
    """Read fine-grained series from a `.jsonl`, an FGAesthetics `.txt` (needs `images_root`) or a folder."""
    p = Path(spec)
    if p.is_dir():
        return read_series_folders(p)
    if not p.is_file():
        raise DataFormatError(p, None, "no such file or folder")
    if p.suffix.lower() == ".jsonl":
        return read_jsonl_series(p, check_files=check_files)
    if images_root is None:
        raise DataFormatError(p, None, "FGAesthetics label file given without an images root (data.fine_images)")
    return read_fgaesthetics(p, images_root, prob_first_better=prob_first_better, check_files=check_files)
