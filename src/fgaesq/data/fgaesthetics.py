"""The FGAesthetics release label files (`natural_train.txt`, …) → `SeriesRecord`s.

THE column mapping and probability direction live here and only here. They are
undocumented by the authors: rows have six numeric fields; we read them as

    series_id  image_a  image_b  P  (unused)  (unused)

with P = P(image_a ≻ image_b). If the released checkpoint's pair accuracy on the test files comes out near
0.22–0.31 instead of 0.69–0.78, the direction is reversed: pass `prob_first_better=False` (config
`data.fga_prob_first_better: false`) — or correct `FGAESTHETICS_COLUMNS` below once the dataset card says more.

Images are found as `<images_root>/<series>/<series>-<idx>.<ext>` (the authors' series layout,
), any of .jpg .jpeg .png .webp in either case. Rows with P = 0.5 are kept (they are excluded
from losses and metrics later); duplicated pairs are merged, averaging P.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from fgaesq.data.errors import DataFormatError
from fgaesq.data.records import PairLabel, SeriesRecord

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".webp")


@dataclass(frozen=True)
class FGAestheticsColumns:
    """Which field of a release row holds what (0-based), and the direction of P."""

    n_fields: int = 6
    series: int = 0
    image_a: int = 1
    image_b: int = 2
    prob: int = 3
    prob_is_first_better: bool = True  # ASSUMPTION: P = P(image_a ≻ image_b); see the module doc


FGAESTHETICS_COLUMNS = FGAestheticsColumns()


def _ident(text: str) -> str:
    """Numeric ids as written ('12', '12.0' → '12')."""
    v = float(text)
    if v != int(v):
        raise ValueError(f"not an integer id: {text}")
    return str(int(v))


def _norm(name: str) -> str:
    """Numeric names compare as integers ('000009' == '9'), as the authors' series script normalises them."""
    return str(int(name)) if name.isdigit() else name


def _series_folders(root: Path) -> dict[str, Path]:
    if not root.is_dir():
        return {}
    return {_norm(d.name): d for d in root.iterdir() if d.is_dir()}


def _series_files(folder: Path | None, series: str) -> dict[str, Path]:
    out: dict[str, Path] = {}
    if folder is None:
        return out
    pat = re.compile(r"^(.+)-(\d+)$")
    for name in os.listdir(folder):
        stem, ext = os.path.splitext(name)
        m = pat.match(stem)
        if m and ext.lower() in IMAGE_EXTS and _norm(m.group(1)) == series:
            out[str(int(m.group(2)))] = folder / name
    return out


def read_fgaesthetics(
    label_file: str | Path,
    images_root: str | Path,
    *,
    prob_first_better: bool | None = None,
    columns: FGAestheticsColumns = FGAESTHETICS_COLUMNS,
    category: str | None = None,
    check_files: bool = True,
) -> list[SeriesRecord]:
    """Read one release label file into series (category defaults to the file-name prefix, e.g. `natural`)."""
    label_file, images_root = Path(label_file), Path(images_root)
    first_better = columns.prob_is_first_better if prob_first_better is None else prob_first_better
    category = category if category is not None else label_file.stem.split("_")[0]
    rows: dict[str, dict[tuple[str, str], list[float]]] = {}
    lines: dict[str, int] = {}
    with open(label_file, encoding="utf-8") as fh:
        for ln, raw in enumerate(fh, 1):
            f = [x for x in re.split(r"[,\s]+", raw.strip()) if x]
            if not f:
                continue
            if len(f) != columns.n_fields:
                raise DataFormatError(label_file, ln, f"expected {columns.n_fields} numeric fields, got {len(f)}")
            try:
                s, a, b = (_ident(f[i]) for i in (columns.series, columns.image_a, columns.image_b))
                p = float(f[columns.prob])
            except ValueError as e:
                raise DataFormatError(label_file, ln, f"bad field ({e})") from None
            if not 0.0 <= p <= 1.0:
                raise DataFormatError(label_file, ln, f"probability {p} outside [0, 1]")
            if a == b:
                raise DataFormatError(label_file, ln, f"pair compares image {a} with itself")
            if not first_better:
                p = 1.0 - p
            key, pv = ((a, b), p) if a < b else ((b, a), 1.0 - p)
            rows.setdefault(s, {}).setdefault(key, []).append(pv)
            lines.setdefault(s, ln)
    if not rows:
        raise DataFormatError(label_file, None, "no rows")
    out = []
    folders = _series_folders(images_root) if check_files else {}
    for s, pairs in rows.items():
        files = _series_files(folders.get(s), s) if check_files else {}
        names = sorted({i for k in pairs for i in k}, key=int)
        index = {n: i for i, n in enumerate(names)}
        images = []
        for n in names:
            if check_files and n not in files:
                raise DataFormatError(label_file, lines[s], f"image not found: {images_root / s / f'{s}-{n}'}.* (set the images root)")
            images.append(files.get(n, images_root / s / f"{s}-{n}.jpg"))
        labels = [PairLabel(index[a], index[b], sum(v) / len(v)) for (a, b), v in pairs.items()]
        out.append(SeriesRecord(s, images, labels, None, category))
    return out
