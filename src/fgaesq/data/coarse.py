"""Coarse (absolute-score) label formats → `CoarseRecord`s with a 10-bin distribution for the EMD loss.

Formats (docs/training.md, "Coarse data"):
- AVA's `AVA.txt`: `index image_id c1 … c10 [tag1 tag2 challenge]`, whitespace separated, c_k = votes for score k;
  image file `<image_id>.jpg`.
- CSV with a header, one of
  - `image,v1,…,v10`            vote counts (or probabilities) per score 1..10;
  - `image,score[,std]`         score on 1..10 → discretised Gaussian N(score, std²) (default std 1.5);
  - `image,mos[,mos_std]`       LIVE-Challenge (CLIVE) layout: MOS on 0..100, mapped to 1..10 as 1 + 9·mos/100,
                                std scaled by 9/100, then the same Gaussian.
Image paths are resolved against `images_dir` when given, else the label file's folder, else its `images/`
subfolder.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from fgaesq.data.errors import DataFormatError
from fgaesq.data.records import NUM_BINS, CoarseRecord

DEFAULT_STD = 1.5
CLIVE_RANGE = (0.0, 100.0)


def _phi(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def gaussian_bins(score: float, std: float = DEFAULT_STD) -> np.ndarray:
    """Discretised N(score, std²) over bins 1..10 (edges k ± 0.5, both tails folded into bins 1 and 10).

    std = 0 puts the mass on the two bins around `score`, split linearly so the mean is exactly `score`.
    """
    if not 1.0 <= score <= 10.0:
        raise ValueError(f"score {score} outside 1..10")
    if std < 0:
        raise ValueError(f"negative std {std}")
    dist = np.zeros(NUM_BINS)
    if std == 0:
        lo = min(int(math.floor(score)), NUM_BINS - 1)
        w = score - lo
        dist[lo - 1] = 1.0 - w
        dist[lo] += w
        return dist
    cdf = [0.0] + [_phi((k + 0.5 - score) / std) for k in range(1, NUM_BINS)] + [1.0]
    dist = np.diff(np.asarray(cdf))
    return dist / dist.sum()


def _resolver(label_file: Path, images_dir: Path | None):
    if images_dir is not None:
        return lambda name: Path(images_dir) / name
    base = label_file.parent
    sub = base / "images"

    def resolve(name: str) -> Path:
        p = base / name
        if not p.exists() and (sub / name).exists():
            return sub / name
        return p

    return resolve


def _check(path: Path, label_file: Path, line: int, check_files: bool) -> None:
    if check_files and not path.is_file():
        raise DataFormatError(label_file, line, f"image not found: {path} (set the images folder)")


def read_ava(label_file: str | Path, images_dir: str | Path | None = None, *, check_files: bool = True) -> list[CoarseRecord]:
    """Read AVA's `AVA.txt` (10 vote counts per image)."""
    label_file = Path(label_file)
    resolve = _resolver(label_file, Path(images_dir) if images_dir else None)
    out: list[CoarseRecord] = []
    with open(label_file, encoding="utf-8") as fh:
        for ln, raw in enumerate(fh, 1):
            f = raw.split()
            if not f:
                continue
            if len(f) < 2 + NUM_BINS:
                raise DataFormatError(label_file, ln, f"expected ≥ 12 fields (AVA.txt: index image_id c1..c10 …; CSV files need a .csv name), got {len(f)}")
            try:
                counts = np.array([float(x) for x in f[2 : 2 + NUM_BINS]])
            except ValueError:
                raise DataFormatError(label_file, ln, "vote counts must be numbers") from None
            out.append(_from_counts(counts, resolve(f"{f[1]}.jpg"), label_file, ln, check_files))
    if not out:
        raise DataFormatError(label_file, None, "no rows")
    return out


def _from_counts(counts: np.ndarray, image: Path, label_file: Path, ln: int, check_files: bool) -> CoarseRecord:
    if (counts < 0).any() or not np.isfinite(counts).all():
        raise DataFormatError(label_file, ln, "vote counts must be finite and ≥ 0")
    if counts.sum() <= 0:
        raise DataFormatError(label_file, ln, "all vote counts are 0")
    _check(image, label_file, ln, check_files)
    return CoarseRecord(image, counts / counts.sum())


def read_coarse_csv(
    label_file: str | Path,
    images_dir: str | Path | None = None,
    *,
    default_std: float = DEFAULT_STD,
    score_range: tuple[float, float] | None = None,
    check_files: bool = True,
) -> list[CoarseRecord]:
    """Read a coarse CSV (`image,v1..v10` | `image,score[,std]` | `image,mos[,mos_std]`), see the module doc.

    `score_range` = (lo, hi) maps scores linearly onto 1..10 (default: none for `score`, 0..100 for `mos`).
    """
    label_file = Path(label_file)
    resolve = _resolver(label_file, Path(images_dir) if images_dir else None)
    with open(label_file, encoding="utf-8", newline="") as fh:
        rows = csv.reader(fh)
        header = [h.strip().lower() for h in next(rows, [])]
        return _parse_csv(label_file, header, enumerate(rows, 2), resolve, default_std, score_range, check_files)


def _parse_csv(label_file, header, rows: Iterable, resolve, default_std, score_range, check_files):
    votes = [f"v{k}" for k in range(1, NUM_BINS + 1)]
    if not header or header[0] != "image":
        raise DataFormatError(label_file, 1, "header must start with 'image' (image,score[,std] | image,mos[,mos_std] | image,v1..v10)")
    if header[1:] == votes:
        kind = "votes"
    elif header[1:] in (["score"], ["score", "std"]):
        kind = "score"
    elif header[1:] in (["mos"], ["mos", "mos_std"]):
        kind = "score"
        score_range = score_range or CLIVE_RANGE
    else:
        raise DataFormatError(label_file, 1, f"unknown columns {header}; expected image,score[,std] | image,mos[,mos_std] | image,v1..v10")
    out: list[CoarseRecord] = []
    for ln, row in rows:
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise DataFormatError(label_file, ln, f"expected {len(header)} fields, got {len(row)}")
        image = resolve(row[0].strip())
        try:
            nums = [float(x) for x in row[1:]]
        except ValueError:
            raise DataFormatError(label_file, ln, "non-numeric value") from None
        if kind == "votes":
            out.append(_from_counts(np.asarray(nums), image, label_file, ln, check_files))
            continue
        score = nums[0]
        std = nums[1] if len(nums) > 1 else None
        if score_range is not None:
            lo, hi = score_range
            if not lo <= score <= hi:
                raise DataFormatError(label_file, ln, f"score {score} outside {lo}..{hi}")
            score = 1.0 + 9.0 * (score - lo) / (hi - lo)
            std = None if std is None else 9.0 * std / (hi - lo)
        if not 1.0 <= score <= 10.0:
            raise DataFormatError(label_file, ln, f"score {score} outside 1..10 (give score_range to map another scale)")
        if std is not None and (std < 0 or not math.isfinite(std)):
            raise DataFormatError(label_file, ln, f"invalid std {std}")
        _check(image, label_file, ln, check_files)
        out.append(CoarseRecord(image, gaussian_bins(score, default_std if std is None else std)))
    if not out:
        raise DataFormatError(label_file, None, "no rows")
    return out


def read_coarse(label_file: str | Path, images_dir: str | Path | None = None, **kw) -> list[CoarseRecord]:
    """Read any coarse format: `.csv` by header, anything else as AVA.txt."""
    if Path(label_file).suffix.lower() == ".csv":
        return read_coarse_csv(label_file, images_dir, **kw)
    kw.pop("default_std", None)
    kw.pop("score_range", None)
    return read_ava(label_file, images_dir, **kw)
