"""Results of large runs written in parts as the run goes, resumable, as Parquet, CSV, JSON or JSON Lines.

Parts are Parquet files written atomically (temporary name + rename), one per finished unit of the input, so a
killed run never leaves half a part and a re-run skips every unit whose part exists. ``--out x.parquet`` is
a folder of parts (`pyarrow.parquet.read_table("x.parquet")` reads it whole); ``--out x.csv|x.json|x.jsonl``
keeps its parts beside it in ``x.csv.parts/`` and is rebuilt from them, streaming, at the end of each run.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from fgaesq.io.sources import require

#: Columns of every output row (docs/scale.md); rank/best/raw_score/pairs are filled by `fgaesq rank`.
COLUMNS = (
    "key", "series", "score", "rank", "best", "raw_score", "pairs", "error", "source",
    "model", "model_version", "fgaesq_version",
)
FORMATS = (".parquet", ".csv", ".json", ".jsonl")
PART_PREFIX = "part-"


class OutputError(Exception):
    """The output cannot be used (wrong kind, written by another model): one line with the fix."""


def arrow_schema():
    """The pyarrow schema of output parts."""
    pa = require("pyarrow")
    return pa.schema(
        [
            ("key", pa.string()),
            ("series", pa.string()),
            ("score", pa.float64()),
            ("rank", pa.int32()),
            ("best", pa.bool_()),
            ("raw_score", pa.float64()),
            ("pairs", pa.int32()),
            ("error", pa.string()),
            ("source", pa.string()),
            ("model", pa.string()),
            ("model_version", pa.string()),
            ("fgaesq_version", pa.string()),
        ]
    )


def check_out(out: Path) -> None:
    """Raise OutputError unless out ends in a supported suffix."""
    if out.suffix.lower() not in FORMATS:
        raise OutputError(f"--out {out}: use a .parquet, .csv, .json or .jsonl name")


class PartsWriter:
    """Writes one Parquet part per finished unit into a folder and knows which units are already done."""

    def __init__(self, out: Path) -> None:
        check_out(out)
        self.out = Path(out)
        self.parquet = self.out.suffix.lower() == ".parquet"
        self.folder = self.out if self.parquet else self.out.with_name(self.out.name + ".parts")
        if self.folder.exists() and not self.folder.is_dir():
            raise OutputError(f"--out {out}: {self.folder} exists and is not a folder of parts; choose another name")
        self.folder.mkdir(parents=True, exist_ok=True)
        for tmp in self.folder.glob(".*.tmp"):  # left by a killed run: never a finished part
            tmp.unlink(missing_ok=True)

    def parts(self) -> list[Path]:
        """Finished parts, in name order."""
        return sorted(p for p in self.folder.glob(f"{PART_PREFIX}*.parquet"))

    def done(self) -> set[str]:
        """Unit ids with a finished part."""
        return {p.stem.rsplit("-", 1)[-1] for p in self.parts()}

    def model_versions(self) -> set[str]:
        """Model versions recorded in the existing parts (first row of each)."""
        pq = require("pyarrow.parquet")
        out = set()
        for p in self.parts():
            col = pq.read_table(p, columns=["model_version"]).column(0)
            if len(col):
                out.add(str(col[0].as_py()))
        return out

    def write(self, index: int, uid: str, rows: list[dict]) -> Path:
        """Write the rows of one unit atomically as part-<index>-<uid>.parquet."""
        pa, pq = require("pyarrow"), require("pyarrow.parquet")
        schema = arrow_schema()
        table = pa.Table.from_pylist([{c: r.get(c) for c in schema.names} for r in rows], schema=schema)
        final = self.folder / f"{PART_PREFIX}{index:06d}-{uid}.parquet"
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=f".{final.name}.", suffix=".tmp")  # ours, never a link
        os.close(fd)
        try:
            pq.write_table(table, tmp)
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
            os.replace(tmp, final)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return final

    def rows(self) -> Iterator[dict]:
        """Every row of every finished part, streaming part by part."""
        pq = require("pyarrow.parquet")
        for p in self.parts():
            for batch in pq.ParquetFile(p).iter_batches(batch_size=4096):
                yield from batch.to_pylist()

    def finish(self) -> Path:
        """Build the CSV / JSON / JSON Lines file from the parts (the Parquet folder is already complete)."""
        if self.parquet:
            return self.out
        write_rows(self.out, self.rows())
        return self.out


def _csv_value(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:.6f}"
    return str(v)


def write_rows(path: Path, rows: Iterable[dict]) -> None:
    """Stream rows into .csv, .jsonl or .json (a document with `images` and `errors`), atomically."""
    from fgaesq.io.atomic import atomic_open

    suffix = path.suffix.lower()
    # a unique temporary file beside the output (never a planted link), renamed on success; undecodable name
    # bytes in keys are written as backslash escapes rather than failing the whole file
    with atomic_open(path, encoding="utf-8", errors="backslashreplace", newline="") as f:
        if suffix == ".csv":
            w = csv.writer(f, lineterminator="\n")
            w.writerow(COLUMNS)
            for r in rows:
                w.writerow([_csv_value(r.get(c)) for c in COLUMNS])
        elif suffix == ".jsonl":
            for r in rows:
                f.write(json.dumps({c: r.get(c) for c in COLUMNS}, ensure_ascii=False) + "\n")
        else:
            _write_json_doc(f, rows)


def _write_json_doc(f, rows: Iterable[dict]) -> None:
    """{"schema", "images": [...], "errors": [...], "summary"} written row by row (errors kept in a side file)."""
    import tempfile

    f.write('{\n  "schema": "fgaesq.stream/1",\n  "images": [')
    n_ok = n_err = 0
    with tempfile.TemporaryFile("w+", encoding="utf-8") as errs:
        for r in rows:
            if r.get("error"):
                errs.write(json.dumps({"key": r["key"], "source": r.get("source"), "error": r["error"]}) + "\n")
                n_err += 1
                continue
            doc = {c: r.get(c) for c in COLUMNS if c != "error" and r.get(c) is not None}
            f.write(("," if n_ok else "") + "\n    " + json.dumps(doc, ensure_ascii=False))
            n_ok += 1
        f.write("\n  ],\n  \"errors\": [")
        errs.seek(0)
        for i, line in enumerate(errs):
            f.write(("," if i else "") + "\n    " + line.rstrip("\n"))
    f.write(f'\n  ],\n  "summary": {{"scored": {n_ok}, "failed": {n_err}}}\n}}\n')
