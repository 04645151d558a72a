"""The one exception type for files that cannot be used as images."""

from __future__ import annotations

from pathlib import Path


class ImageError(Exception):
    """A file could not be decoded as an image; the message names the file, the reason and the fix."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = " ".join(str(reason).split())  # one line, whatever a decoder library put in its message
        super().__init__(f"{self.path}: {reason}")
