"""Coarse evaluation files: CSV with columns `image,score` (or `image,mos`).

Series files are read by `fgaesq.data` (`read_jsonl_series`), the one reader of the series format.
"""

from __future__ import annotations

import csv
from pathlib import Path

from fgaesq.data.errors import DataFormatError


def read_scores_csv(path: str | Path) -> list[tuple[Path, float]]:
    """Parse a coarse CSV with columns ``image,score`` (or ``image,mos``); paths relative to the file or its images/."""
    path = Path(path)
    rows: list[tuple[Path, float]] = []
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = reader.fieldnames or []
        col = "score" if "score" in fields else "mos" if "mos" in fields else None
        if "image" not in fields or col is None:
            raise DataFormatError(path, 1, "needs a header with 'image' and 'score' (or 'mos') columns")
        for lineno, row in enumerate(reader, 2):
            image = path.parent / row["image"]
            if not image.exists() and (path.parent / "images" / row["image"]).exists():
                image = path.parent / "images" / row["image"]  # the CLIVE layout: labels.csv beside images/
            try:
                rows.append((image, float(row[col])))
            except (TypeError, ValueError):
                raise DataFormatError(path, lineno, f"'{col}' must be a number") from None
    return rows
