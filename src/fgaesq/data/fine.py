"""Fine-grained (series) data: one entry point for every format → `SeriesRecord`s.

- our series JSONL (docs/contracts.md; written by `fgaesq calibrate`): `*.jsonl`
- the FGAesthetics release label files: `*.txt` with `images_root` (see `fgaesthetics.py`)
- a folder of series folders, each with a `ranking.txt` (see `series_folder.py`)
"""

from __future__ import annotations

import json
from pathlib import Path

from fgaesq.data.errors import DataFormatError
from fgaesq.data.fgaesthetics import read_fgaesthetics
from fgaesq.data.records import PairLabel, SeriesRecord
from fgaesq.data.series_folder import read_series_folders


def _series_from_json(obj: dict, base: Path, path: Path, ln: int, check_files: bool) -> SeriesRecord:
    def fail(msg: str) -> DataFormatError:
        return DataFormatError(path, ln, msg)

    if not isinstance(obj, dict):
        raise fail("each line must be a JSON object")
    for key in ("series", "images"):
        if key not in obj:
            raise fail(f"missing '{key}'")
    names = obj["images"]
    if not isinstance(names, list) or len(names) < 2 or not all(isinstance(n, str) for n in names):
        raise fail("'images' must list at least 2 file names")
    if len(set(names)) != len(names):
        raise fail("'images' lists a file twice")
    index = {n: i for i, n in enumerate(names)}
    root = base / obj["root"] if obj.get("root") else base
    images = [root / n for n in names]
    if check_files:
        for p in images:
            if not p.is_file():
                raise fail(f"image not found: {p}")
    ranking = None
    if obj.get("ranking") is not None:
        r = obj["ranking"]
        if not isinstance(r, list) or any(n not in index for n in r) or len(set(r)) != len(r):
            raise fail("'ranking' must list distinct names from 'images'")
        ranking = [index[n] for n in r]
    pairs = []
    for k, pr in enumerate(obj.get("pairs") or []):
        if not isinstance(pr, dict) or pr.get("a") not in index or pr.get("b") not in index or pr["a"] == pr["b"]:
            raise fail(f"pair {k}: 'a' and 'b' must be two different names from 'images'")
        p = pr.get("p", 1.0)
        if not isinstance(p, int | float) or not 0.0 <= p <= 1.0:
            raise fail(f"pair {k}: 'p' must be a number in [0, 1]")
        text = pr.get("text")
        if text is not None and not isinstance(text, str):
            raise fail(f"pair {k}: 'text' must be a string")
        pairs.append(PairLabel(index[pr["a"]], index[pr["b"]], float(p), text or None))
    if ranking is None and not pairs:
        raise fail("a series needs a 'ranking' or 'pairs'")
    if not pairs and ranking is not None:
        pairs = [PairLabel(ranking[i], ranking[j], 1.0) for i in range(len(ranking)) for j in range(i + 1, len(ranking))]
    return SeriesRecord(str(obj["series"]), images, pairs, ranking, str(obj.get("category") or ""))


def read_jsonl_series(path: str | Path, *, check_files: bool = True) -> list[SeriesRecord]:
    """Read our series JSONL (one series per line, docs/contracts.md)."""
    path = Path(path)
    out: list[SeriesRecord] = []
    with open(path, encoding="utf-8") as fh:
        for ln, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except json.JSONDecodeError as e:
                raise DataFormatError(path, ln, f"invalid JSON ({e.msg})") from None
            out.append(_series_from_json(obj, path.parent, path, ln, check_files))
    if not out:
        raise DataFormatError(path, None, "no series")
    return out


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
