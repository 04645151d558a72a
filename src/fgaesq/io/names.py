"""File names on the terminal and in JSON: control characters escaped for display, undecodable bytes kept exact."""

from __future__ import annotations

import json
import os
import unicodedata


def printable(text: str | os.PathLike) -> str:
    """Text safe to print: control/format characters and undecodable name bytes shown as escapes (\\n, \\x1b, \\xff)."""
    out = []
    for ch in os.fspath(text) if not isinstance(text, str) else text:
        o = ord(ch)
        if 0xDC80 <= o <= 0xDCFF:  # a byte of a file name that is not valid UTF-8 (surrogateescape)
            out.append(f"\\x{o - 0xDC00:02x}")
        elif ch in "\n\r\t":
            out.append(repr(ch)[1:-1])
        elif unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            out.append(f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}")
        else:
            out.append(ch)
    return "".join(out)


def json_text(doc: object, *, indent: int | None = 2) -> str:
    """JSON text that is valid UTF-8 even for file names that are not: such bytes become \\udcXX escapes.

    Python's json module reads them back to the same str, and ``os.fsencode`` turns that into the original bytes.
    """
    text = json.dumps(doc, indent=indent, ensure_ascii=False)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
