"""Reading JSON-lines files with errors that name the file and line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from fgaesq.data.errors import DataFormatError


def iter_jsonl(path: Path) -> Iterator[tuple[str, int, object]]:
    """Yield (`file:line`, line number, decoded value) per non-blank line; bad JSON raises DataFormatError."""
    with path.open("r", encoding="utf-8-sig") as fh:
        for lineno, text in enumerate(fh, start=1):
            if not text.strip():
                continue
            try:
                yield f"{path}:{lineno}", lineno, json.loads(text)
            except json.JSONDecodeError as exc:
                raise DataFormatError(path, lineno, f"not valid JSON ({exc.msg})") from None
