"""Fine-grained (series) data: one entry point for every format → `SeriesRecord`s.

- our series JSONL (docs/contracts.md; written by `fgaesq calibrate`): `*.jsonl`
- the FGAesthetics release label files: `*.txt` with `images_root` (see `fgaesthetics.py`)
- a folder of series folders, each with a `ranking.txt` (see `series_folder.py`)
"""

from __future__ import annotations

from pathlib import Path

from fgaesq.data.errors import DataFormatError
from fgaesq.data.fgaesthetics import read_fgaesthetics
from fgaesq.data.records import PairLabel, SeriesRecord
from fgaesq.data.series_folder import read_series_folders
from fgaesq.data.series_jsonl import SeriesFormatError, read_series_jsonl
from fgaesq.data.series_jsonl import SeriesRecord as SeriesJsonl


def _convert(rec: SeriesJsonl, path: Path, check_files: bool) -> SeriesRecord:
    index = {n: i for i, n in enumerate(rec.images)}
    images = rec.image_paths()
    where = f"{path} (series '{rec.series}')"
    if len(images) < 2:
        raise DataFormatError.raw(f"{where}: a series needs at least 2 images")
    if check_files:
        for p in images:
            if not p.is_file():
                raise DataFormatError.raw(f"{where}: image not found: {p}")
    ranking = [index[n] for n in rec.ranking] or None
    pairs = [PairLabel(index[pr.a], index[pr.b], pr.p, pr.text or None) for pr in rec.pairs]
    if ranking is None and not pairs:
        raise DataFormatError.raw(f"{where}: a series needs a 'ranking' or 'pairs'")
    if not pairs and ranking is not None:
        pairs = [PairLabel(ranking[i], ranking[j], 1.0) for i in range(len(ranking)) for j in range(i + 1, len(ranking))]
    return SeriesRecord(rec.series, images, pairs, ranking, rec.category or "")


def read_jsonl_series(path: str | Path, *, check_files: bool = True) -> list[SeriesRecord]:
    """Read our series JSONL (one series per line, docs/contracts.md) through `fgaesq.data.series_jsonl`."""
    path = Path(path)
    try:
        recs = read_series_jsonl(path)
    except SeriesFormatError as e:
        raise DataFormatError.raw(str(e)) from None
    if not recs:
        raise DataFormatError(path, None, "no series")
    return [_convert(r, path, check_files) for r in recs]


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
