"""One file of each bad-input kind, for the decoder and CLI tests."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from PIL import Image
from skimage import data

ASTRONAUT = data.astronaut()

BAD_KINDS = ("zero", "truncated", "corrupt", "bomb", "unsupported", "text")


def _png_header_bomb(path: Path, width: int, height: int) -> Path:
    """A PNG whose header claims a huge size (one compressed row of data follows)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (width + 1))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    return path


def make_bad_files(folder: Path) -> dict[str, Path]:
    """One file of each bad-input kind, built from a real photo where a photo is involved."""
    folder.mkdir(parents=True, exist_ok=True)
    good = folder / "_src.jpg"
    Image.fromarray(ASTRONAUT).save(good, quality=90)
    raw = good.read_bytes()
    good.unlink()
    files = {}
    files["zero"] = folder / "zero.jpg"
    files["zero"].write_bytes(b"")
    files["truncated"] = folder / "truncated.jpg"
    files["truncated"].write_bytes(raw[: len(raw) // 2])
    corrupt = bytearray(raw)
    start = len(corrupt) // 3
    corrupt[start : start + 4000] = bytes((i * 37) % 256 for i in range(4000))
    corrupt[2:40] = b"\x00" * 38  # header destroyed
    files["corrupt"] = folder / "corrupt.jpg"
    files["corrupt"].write_bytes(bytes(corrupt))
    files["bomb"] = _png_header_bomb(folder / "bomb.png", 30000, 30000)
    files["unsupported"] = folder / "anim.gif"
    Image.fromarray(ASTRONAUT).save(files["unsupported"])
    files["text"] = folder / "notes.jpg"
    files["text"].write_text("shopping list: milk, eggs\n")
    return files
