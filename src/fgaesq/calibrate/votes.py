"""Reading pairwise votes: CSV or JSONL rows `series,image_a,image_b,choice,annotator[,time]`.

`choice` is `a` (image_a preferred), `b` (image_b preferred) or `tie` (case-insensitive).
`time` is optional: seconds spent on the judgement (a number) or an ISO-8601 timestamp; it is
only used for the report. Input files are opened read-only.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from fgaesq.data.errors import DataFormatError
from fgaesq.data.jsonl import iter_jsonl, iter_utf8_lines

#: The votes format, written by `fgaesq annotate export` and read by `fgaesq calibrate` (one definition).
REQUIRED = ("series", "image_a", "image_b", "choice", "annotator")
COLUMNS = (*REQUIRED, "time")
CHOICES = ("a", "b", "tie")


@dataclass(frozen=True)
class Vote:
    """One judgement: `choice` ∈ a|b|tie on (image_a, image_b) of one series."""

    series: str
    image_a: str
    image_b: str
    choice: str
    annotator: str
    seconds: float | None = None
    line: int = 0

    def score_for(self, image: str) -> float:
        """1 if `image` won this vote, 0 if it lost, 0.5 on a tie."""
        if self.choice == "tie":
            return 0.5
        winner = self.image_a if self.choice == "a" else self.image_b
        return 1.0 if image == winner else 0.0


def _parse_time(raw: object, where: str) -> float | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, bool):
        raise DataFormatError.raw(f"{where}: 'time' must be seconds or an ISO-8601 timestamp, got {raw!r}")
    if isinstance(raw, int | float):
        val = float(raw)
    else:
        text = str(raw).strip()
        try:
            val = float(text)
        except ValueError:
            try:
                datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                raise DataFormatError.raw(
                    f"{where}: 'time' must be seconds or an ISO-8601 timestamp, got {text!r}"
                ) from None
            return None
    if not math.isfinite(val) or val < 0:
        raise DataFormatError.raw(f"{where}: 'time' in seconds must be a finite number ≥ 0, got {raw!r}")
    return val


def _text(value: object, key: str, where: str) -> str:
    """A field as text: strings (and whole numbers) only; NUL characters and lone surrogates are refused."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise DataFormatError.raw(f"{where}: '{key}' must be text, got {type(value).__name__} {str(value)[:40]!r}")
    text = str(value).strip()
    if "\x00" in text:
        raise DataFormatError.raw(f"{where}: '{key}' contains a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise DataFormatError.raw(f"{where}: '{key}' contains an unpaired surrogate (\\ud800-\\udfff escape)") from None
    return text


def make_vote(row: dict, where: str, line: int) -> Vote:
    """Validate one row (a dict of column → value) and build a Vote."""
    missing = [k for k in REQUIRED if row.get(k) is None or str(row.get(k)).strip() == ""]
    if missing:
        raise DataFormatError.raw(f"{where}: missing value for {', '.join(missing)}")
    vals = {k: _text(row[k], k, where) for k in REQUIRED}
    choice = vals["choice"].lower()
    if choice not in CHOICES:
        raise DataFormatError.raw(f"{where}: choice must be one of a|b|tie, got {vals['choice']!r}")
    if vals["image_a"] == vals["image_b"]:
        raise DataFormatError.raw(f"{where}: image_a and image_b are the same image ({vals['image_a']!r})")
    return Vote(
        series=vals["series"],
        image_a=vals["image_a"],
        image_b=vals["image_b"],
        choice=choice,
        annotator=vals["annotator"],
        seconds=_parse_time(row.get("time"), where),
        line=line,
    )


def _is_jsonl(path: Path) -> bool:
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        return True
    if path.suffix.lower() in (".csv", ".tsv"):
        return False
    with path.open("r", encoding="utf-8-sig", errors="replace") as fh:
        for line in fh:
            if line.strip():
                return line.lstrip().startswith("{")
    return False


def _check_utf8(path: Path) -> None:
    """Raise DataFormatError naming the line and real byte offset of the first byte that is not UTF-8 (or a NUL)."""
    for _ in iter_utf8_lines(path):
        pass


def _read_csv(path: Path) -> list[Vote]:
    _check_utf8(path)
    try:
        return _read_csv_rows(path)
    except csv.Error as exc:
        raise DataFormatError.raw(f"{path}: not readable CSV ({exc}); check quoting, or a field far too long") from None


def _read_csv_rows(path: Path) -> list[Vote]:
    votes: list[Vote] = []
    with path.open("r", encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
        header: list[str] | None = None
        rows = iter(reader)
        while True:
            try:
                row = next(rows)
            except StopIteration:
                break
            except csv.Error as exc:
                raise DataFormatError.raw(f"{path}:{reader.line_num + 1}: not readable CSV ({exc})") from None
            line = reader.line_num
            if not row or all(not c.strip() for c in row):
                continue
            if header is None:
                header = [c.strip().lower() for c in row]
                dupes = sorted({c for c in header if header.count(c) > 1 and c})
                if dupes:
                    raise DataFormatError.raw(f"{path}:{line}: column(s) {', '.join(dupes)} appear more than once in the "
                                     "header; keep one")
                absent = [k for k in REQUIRED if k not in header]
                if absent:
                    raise DataFormatError.raw(
                        f"{path}:{line}: header lacks column(s) {', '.join(absent)}; "
                        f"expected {','.join(REQUIRED)}[,time]"
                    )
                continue
            if len(row) != len(header):
                raise DataFormatError.raw(f"{path}:{line}: expected {len(header)} fields, found {len(row)}")
            votes.append(make_vote(dict(zip(header, row, strict=True)), f"{path}:{line}", line))
    if header is None:
        raise DataFormatError.raw(f"{path}: empty file; expected a header {','.join(REQUIRED)}[,time]")
    return votes


def _read_jsonl(path: Path) -> list[Vote]:
    votes: list[Vote] = []
    for where, line, obj in iter_jsonl(path):
        if not isinstance(obj, dict):
            raise DataFormatError.raw(f"{where}: expected a JSON object per line")
        votes.append(make_vote(obj, where, line))
    return votes


def read_votes(path: str | Path) -> list[Vote]:
    """Read all votes of one CSV/TSV or JSONL file (format from the suffix, else sniffed)."""
    path = Path(path)
    if not path.is_file():
        raise DataFormatError.raw(f"{path}: no such file")
    try:
        return _read_jsonl(path) if _is_jsonl(path) else _read_csv(path)
    except UnicodeDecodeError as exc:
        raise DataFormatError.raw(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
