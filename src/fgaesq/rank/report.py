"""Writing results: JSON and CSV files (documented in docs/usage.md) and Rich tables."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from rich.table import Table

from fgaesq.io.atomic import atomic_write_text
from fgaesq.io.names import json_text, printable
from fgaesq.io.xmp import rating_for_rank
from fgaesq.rank.pipeline import RankResult, ScoreResult

SCORE_SCHEMA = "fgaesq.scores/1"
RANK_SCHEMA = "fgaesq.ranking/1"
DECIMALS = 6


def _r(x: float) -> float:
    return round(float(x), DECIMALS)


def score_dict(result: ScoreResult) -> dict:
    """The JSON document of `fgaesq score`."""
    return {
        "schema": SCORE_SCHEMA,
        "model": result.model,
        "images": [{"path": im.path, "score": _r(im.score)} for im in result.images],
        "errors": [{"path": e.path, "error": e.error} for e in result.errors],
        "summary": {"scored": len(result.images), "failed": len(result.errors)},
    }


def rank_dict(result: RankResult) -> dict:
    """The JSON document of `fgaesq rank`."""
    series = []
    for s in result.series:
        n = len(s.ranking)
        series.append(
            {
                "series": s.series,
                "count": n,
                "best": s.best,
                "strategy": s.strategy,
                "pairs": s.pairs,
                "forward_passes": s.forward_passes,
                "ranking": [
                    {
                        "rank": im.rank,
                        "path": im.path,
                        "score": _r(im.score),
                        "raw_score": _r(im.raw_score),
                        "pairs": im.pairs,
                        "rating": rating_for_rank(im.rank, n),
                    }
                    for im in s.ranking
                ],
            }
        )
    return {
        "schema": RANK_SCHEMA,
        "model": result.model,
        "series_by": result.series_by,
        "settings": result.settings,
        "series": series,
        "errors": [{"path": e.path, "error": e.error} for e in result.errors],
        "summary": {
            "images": sum(len(s.ranking) for s in result.series),
            "series": len(result.series),
            "failed": len(result.errors),
            "forward_passes": result.forward_passes,
        },
    }


def to_json(doc: dict) -> str:
    """Stable, pretty JSON text (valid UTF-8; undecodable name bytes become \\udcXX escapes that read back exactly)."""
    return json_text(doc, indent=2) + "\n"


def score_csv(result: ScoreResult) -> str:
    """CSV of `fgaesq score`: path,score,error (errors have an empty score)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["path", "score", "error"])
    for im in result.images:
        w.writerow([im.path, f"{im.score:.{DECIMALS}f}", ""])
    for e in result.errors:
        w.writerow([e.path, "", e.error])
    return buf.getvalue()


RANK_CSV_COLUMNS = ["series", "rank", "path", "score", "raw_score", "pairs", "rating", "best", "error"]


def rank_csv(result: RankResult) -> str:
    """CSV of `fgaesq rank`: one row per image (best first within each series), then one row per failed file."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(RANK_CSV_COLUMNS)
    for s in result.series:
        n = len(s.ranking)
        for im in s.ranking:
            w.writerow(
                [s.series, im.rank, im.path, f"{im.score:.{DECIMALS}f}", f"{im.raw_score:.{DECIMALS}f}", im.pairs,
                 rating_for_rank(im.rank, n), "true" if im.rank == 1 else "false", ""]
            )
    for e in result.errors:
        w.writerow(["", "", e.path, "", "", "", "", "", e.error])
    return buf.getvalue()


def write_output(path: Path, json_doc: dict, csv_text: str) -> None:
    """Write JSON or CSV by the file's extension (.json / .csv), atomically (no partial file on failure).

    CSV keeps file names byte-exact: name bytes that are not UTF-8 are written as they are on disk.
    """
    suffix = path.suffix.lower()
    if suffix == ".json":
        atomic_write_text(path, to_json(json_doc), make_parents=True)
    elif suffix == ".csv":
        atomic_write_text(path, csv_text, errors="surrogateescape", make_parents=True)
    else:
        raise ValueError(f"--out {path}: use a .json or .csv file name")


def _short(paths: list[str]) -> tuple[str, dict[str, str]]:
    """Common folder of the paths and each path relative to it (for compact tables)."""
    if not paths:
        return "", {}
    parents = [os.path.dirname(p) or "." for p in paths]
    try:
        base = os.path.commonpath(parents)
    except ValueError:
        return "", {p: printable(p) for p in paths}
    return printable(base), {p: printable(os.path.relpath(p, base)) for p in paths}


def score_table(result: ScoreResult) -> Table:
    """Scores best first."""
    base, short = _short([im.path for im in result.images])
    t = Table(title=f"{len(result.images)} images in {base or '.'}", title_justify="left")
    t.add_column("#", justify="right")
    t.add_column("image", overflow="fold")
    t.add_column("score", justify="right")
    for i, im in enumerate(sorted(result.images, key=lambda x: (-x.score, x.path)), 1):
        t.add_row(str(i), short[im.path], f"{im.score:.4f}")
    return t


def rank_table(result: RankResult) -> Table:
    """Every series with its ranking; the best pick marked."""
    base, short = _short([im.path for s in result.series for im in s.ranking])
    title = f"{base or '.'}: {len(result.series)} series (grouped by {result.series_by})"
    t = Table(title=title, title_justify="left")
    t.add_column("series")
    t.add_column("#", justify="right")
    t.add_column("image", overflow="fold")
    t.add_column("score", justify="right")
    t.add_column("", justify="left")
    for s in result.series:
        for im in s.ranking:
            t.add_row(printable(s.series) if im.rank == 1 else "", str(im.rank), short[im.path], f"{im.score:.4f}",
                      "best" if im.rank == 1 else "", end_section=im.rank == len(s.ranking))
    return t
