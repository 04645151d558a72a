"""Read fine-grained series JSONL (docs/contracts.md) and coarse CSV (image,score) files for evaluation."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

from fgaesq.data.series_jsonl import SeriesFormatError
from fgaesq.data.series_jsonl import read_series_jsonl as _read_records


class DataError(ValueError):
    """A malformed evaluation file: the message names the file, the line and the fix."""


@dataclass(frozen=True)
class Series:
    """One series: image paths (resolved), annotated pairs ``(a, b, p)`` by image name, category."""

    series: str
    category: str
    names: tuple[str, ...]
    paths: tuple[Path, ...]
    pairs: tuple[tuple[str, str, float], ...]


def _pairs_from_ranking(ranking: list[str]) -> list[tuple[str, str, float]]:
    return [(a, b, 1.0) for a, b in combinations(ranking, 2)]


def read_series_jsonl(path: str | Path) -> list[Series]:
    """Evaluation view of a series JSONL file (parsed and validated by `fgaesq.data.series_jsonl`).

    Pairs default to every pair of ``ranking`` (better first, p = 1) when a series lists none.
    """
    try:
        records = _read_records(path)
    except SeriesFormatError as exc:
        raise DataError(str(exc)) from None
    if not records:
        raise DataError(f"{path}: no series found; expected one JSON object per line")
    out: list[Series] = []
    for rec in records:
        pairs = [(q.a, q.b, q.p) for q in rec.pairs]
        if not pairs and rec.ranking:
            if sorted(rec.ranking) != sorted(rec.images):
                raise DataError(f"{path}: series '{rec.series}': 'ranking' must list exactly the series' images")
            pairs = _pairs_from_ranking(rec.ranking)
        if not pairs:
            raise DataError(f"{path}: series '{rec.series}' needs 'pairs' or 'ranking'")
        out.append(Series(series=rec.series, category=rec.category or "all", names=tuple(rec.images),
                          paths=tuple(rec.image_paths()), pairs=tuple(pairs)))
    return out


def read_scores_csv(path: str | Path) -> list[tuple[Path, float]]:
    """Parse a coarse CSV with columns ``image,score`` (or ``image,mos``); paths relative to the file or its images/."""
    path = Path(path)
    rows: list[tuple[Path, float]] = []
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = reader.fieldnames or []
        col = "score" if "score" in fields else "mos" if "mos" in fields else None
        if "image" not in fields or col is None:
            raise DataError(f"{path}: needs a header with 'image' and 'score' (or 'mos') columns")
        for lineno, row in enumerate(reader, 2):
            image = path.parent / row["image"]
            if not image.exists() and (path.parent / "images" / row["image"]).exists():
                image = path.parent / "images" / row["image"]  # the CLIVE layout: labels.csv beside images/
            try:
                rows.append((image, float(row[col])))
            except (TypeError, ValueError):
                raise DataError(f"{path}:{lineno}: '{col}' must be a number") from None
    return rows
