"""Reading JSON-lines files with errors that name the file and line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from fgaesq.data.errors import DataFormatError


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def decode_line(raw: bytes, path: Path, lineno: int, offset: int) -> str:
    """One line of a UTF-8 file as text; an undecodable byte or a NUL raises DataFormatError (line, file offset)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataFormatError(
            path, lineno, f"not UTF-8 text ({exc.reason} at byte {offset + exc.start} of the file); re-save it as UTF-8"
        ) from None
    if "\x00" in text:
        raise DataFormatError(path, lineno, "contains a NUL character; the file is damaged or not text")
    return text


def iter_utf8_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of every line of a UTF-8 file (BOM skipped), checked as in `decode_line`."""
    offset = 0
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            start, offset = offset, offset + len(raw)
            if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw, start = raw[3:], start + 3
            yield lineno, decode_line(raw, path, lineno, start)


def iter_jsonl(path: Path) -> Iterator[tuple[str, int, object]]:
    """Yield (`file:line`, line number, decoded value) per non-blank line; bad JSON raises DataFormatError.

    NaN/Infinity, nesting deeper than Python can decode and integers beyond Python's digit limit are bad JSON too.
    """
    for lineno, text in iter_utf8_lines(path):
        if not text.strip():
            continue
        try:
            value = json.loads(text, parse_constant=_reject_constant)
        except json.JSONDecodeError as exc:
            raise DataFormatError(path, lineno, f"not valid JSON ({exc.msg})") from None
        except RecursionError:
            raise DataFormatError(path, lineno, "JSON nested too deeply") from None
        except ValueError as exc:  # e.g. NaN, or an integer over Python's 4300-digit limit
            raise DataFormatError(path, lineno, f"not valid JSON ({str(exc)[:120]})") from None
        yield f"{path}:{lineno}", lineno, value
