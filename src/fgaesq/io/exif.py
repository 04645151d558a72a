"""Capture time of a photo: EXIF DateTimeOriginal + SubSecTimeOriginal, file modification time as fallback."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image

_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL = 36867
_DATETIME_DIGITIZED = 36868
_SUBSEC_ORIGINAL = 37521
_SUBSEC_DIGITIZED = 37522


@dataclass(frozen=True)
class CaptureTime:
    """When a photo was taken, as seconds on a naive (camera-local) clock, and where that came from."""

    timestamp: float
    source: str  # "exif" or "mtime"

    def isoformat(self) -> str:
        """The time as ISO 8601 (camera-local for EXIF, UTC for file times)."""
        return datetime.fromtimestamp(self.timestamp, tz=UTC).replace(tzinfo=None).isoformat()


def _parse(value: object, subsec: object) -> float | None:
    """EXIF 'YYYY:MM:DD HH:MM:SS' (+ sub-second digits) to seconds, or None."""
    if not isinstance(value, str):
        return None
    value = value[:64]
    try:
        dt = datetime.strptime(value.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    t = dt.replace(tzinfo=UTC).timestamp()
    digits = "".join(ch for ch in str(subsec or "")[:64] if ch in "0123456789")[:9]  # nanoseconds at most
    if digits:
        t += int(digits) / 10 ** len(digits)
    return t


def exif_capture_time(path: str | os.PathLike) -> float | None:
    """DateTimeOriginal (or DateTimeDigitized) with its sub-seconds, as seconds; None when absent or unreadable."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # corrupt EXIF is simply no EXIF time
            with Image.open(path) as im:
                ifd = im.getexif().get_ifd(_EXIF_IFD)
    except Exception:  # noqa: BLE001 - any unreadable file simply has no EXIF time
        return None
    for tag, sub in ((_DATETIME_ORIGINAL, _SUBSEC_ORIGINAL), (_DATETIME_DIGITIZED, _SUBSEC_DIGITIZED)):
        try:
            t = _parse(ifd.get(tag), ifd.get(sub))
        except (ValueError, OverflowError, TypeError):  # a malformed tag is simply no EXIF time
            t = None
        if t is not None:
            return t
    return None


def capture_time(path: str | os.PathLike) -> CaptureTime:
    """The photo's capture time from EXIF, else the file's modification time (0 when even that is unreadable)."""
    t = exif_capture_time(path)
    if t is not None:
        return CaptureTime(t, "exif")
    try:
        return CaptureTime(Path(path).stat().st_mtime, "mtime")
    except OSError:
        return CaptureTime(0.0, "mtime")
