"""Export of all votes in the `fgaesq calibrate` input format.

CSV columns `series,image_a,image_b,choice,annotator,time`: images are paths relative to ROOT
(`series/file.jpg`, so `fgaesq calibrate --root ROOT` finds them; bare file names with `bare_names`),
`choice` ∈ a|b|tie (a = image_a, the image shown on the left, preferred), `time` = seconds
the annotator spent on the pair (empty when unknown). JSONL has the same keys plus `voted_at` (UTC, ISO 8601).
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from sqlalchemy import Engine, select

from fgaesq.calibrate.votes import COLUMNS
from fgaesq.io.atomic import atomic_open
from fgaesq.serve.annotate import db


def iter_votes(engine: Engine) -> Iterator[dict]:
    """Every vote, oldest first, as a dict with COLUMNS plus `id` and `voted_at`."""
    v = db.votes.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                v.id, v.series, v.image_a, v.image_b, v.choice, v.annotator, v.seconds, v.created_at
            ).order_by(v.id)
        )
        for r in rows:
            yield {
                "id": r.id,
                "series": r.series,
                "image_a": r.image_a,
                "image_b": r.image_b,
                "choice": r.choice,
                "annotator": r.annotator,
                "time": r.seconds,
                "voted_at": r.created_at.isoformat(timespec="milliseconds") + "Z",
            }


def _rooted(rows: Iterator[dict], bare_names: bool, folders: dict[str, str]) -> Iterator[dict]:
    """Image names as paths relative to ROOT: `folder/file`, the folder recorded for the series (else its name)."""
    for r in rows:
        if not bare_names:
            folder = folders.get(r["series"], r["series"])
            prefix = f"{folder}/" if folder else ""
            r = {**r, "image_a": prefix + r["image_a"], "image_b": prefix + r["image_b"]}
        yield r


def _write(rows: Iterator[dict], fh: TextIO, fmt: str) -> int:
    n = 0
    if fmt == "csv":
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(COLUMNS)
        for r in rows:
            t = r["time"]
            writer.writerow(
                [
                    r["series"],
                    r["image_a"],
                    r["image_b"],
                    r["choice"],
                    r["annotator"],
                    "" if t is None else f"{t:.3f}",
                ]
            )
            n += 1
    else:
        for r in rows:
            fh.write(json.dumps({k: r[k] for k in (*COLUMNS, "voted_at")}, ensure_ascii=False) + "\n")
            n += 1
    return n


def export_votes(engine: Engine, out: str | Path, fmt: str | None = None, *, bare_names: bool = False) -> int:
    """Write every vote to `out` (CSV or JSONL by `fmt` or by suffix; `-` = stdout); returns the number written.

    Images are written as `series/file` (relative to ROOT), or as bare file names with `bare_names`.
    """
    target = str(out)
    if fmt is None:
        fmt = "jsonl" if target.lower().endswith((".jsonl", ".ndjson")) else "csv"
    if fmt not in ("csv", "jsonl"):
        raise ValueError(f"unknown export format {fmt!r}; use csv or jsonl")
    folders = db.series_folder_map(engine)
    if target == "-":
        return _write(_rooted(iter_votes(engine), bare_names, folders), sys.stdout, fmt)
    # a unique temporary file in the same folder (never a fixed name that could be a planted link), renamed on success
    with atomic_open(Path(target), encoding="utf-8", newline="") as fh:
        return _write(_rooted(iter_votes(engine), bare_names, folders), fh, fmt)
