"""Read fine-grained series JSONL (docs/contracts.md) and coarse CSV (image,score) files for evaluation."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path


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
    """Parse a series JSONL file; pairs default to every pair of ``ranking`` (better first, p = 1)."""
    path = Path(path)
    out: list[Series] = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{where}: not valid JSON ({exc.msg}); one series object per line") from None
            images = rec.get("images")
            if not isinstance(images, list) or not images:
                raise DataError(f"{where}: 'images' must be a non-empty list of image paths")
            root = path.parent / rec["root"] if rec.get("root") else path.parent
            if "pairs" in rec and rec["pairs"]:
                pairs = []
                for q in rec["pairs"]:
                    try:
                        a, b, p = str(q["a"]), str(q["b"]), float(q["p"])
                    except (KeyError, TypeError, ValueError):
                        raise DataError(f"{where}: each pair needs 'a', 'b' and a numeric 'p'") from None
                    if not 0.0 <= p <= 1.0:
                        raise DataError(f"{where}: pair p = {p} is outside [0, 1]")
                    if a not in images or b not in images:
                        raise DataError(f"{where}: pair ({a}, {b}) names an image not listed in 'images'")
                    pairs.append((a, b, p))
            elif rec.get("ranking"):
                ranking = [str(r) for r in rec["ranking"]]
                if sorted(ranking) != sorted(images):
                    raise DataError(f"{where}: 'ranking' must list exactly the series' images")
                pairs = _pairs_from_ranking(ranking)
            else:
                raise DataError(f"{where}: a series needs 'pairs' or 'ranking'")
            out.append(
                Series(
                    series=str(rec.get("series", f"line-{lineno}")),
                    category=str(rec.get("category") or "all"),
                    names=tuple(str(i) for i in images),
                    paths=tuple(root / str(i) for i in images),
                    pairs=tuple(pairs),
                )
            )
    if not out:
        raise DataError(f"{path}: no series found; expected one JSON object per line")
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
