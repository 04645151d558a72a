"""Browser previews of formats browsers cannot show (TIFF, HEIC): decoded through `fgaesq.io.load_image`.

Memory per request is bounded: the long side is limited, at most a few decodes run at once, and recent previews
are kept so that parallel requests for one huge file decode it once.
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from pathlib import Path

from fgaesq.io import ImageError, load_image

#: Long side of served previews, in pixels (full quality on screens; a 169 MP TIFF becomes about 4 MP).
PREVIEW_MAX_SIZE = 2048
#: Decodes allowed at the same time; more requests wait.
MAX_PARALLEL_DECODES = 2
CACHE_ENTRIES = 16

_slots = threading.BoundedSemaphore(MAX_PARALLEL_DECODES)
_lock = threading.Lock()
_cache: OrderedDict[tuple, bytes] = OrderedDict()


class PreviewError(ValueError):
    """The image cannot be shown; `reason` says why (the file is left alone)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def _key(path: Path) -> tuple:
    st = path.stat()
    return (str(path), st.st_mtime_ns, st.st_size)


def preview_png(path: Path) -> bytes:
    """PNG bytes of the upright image, long side <= PREVIEW_MAX_SIZE; raises PreviewError for unreadable files."""
    try:
        key = _key(path)
    except OSError as e:
        raise PreviewError(f"cannot read the file ({e.strerror})") from e
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    with _slots:
        with _lock:  # another request may have decoded it while this one waited
            if key in _cache:
                return _cache[key]
        try:
            img = load_image(path, PREVIEW_MAX_SIZE)
        except ImageError as e:
            raise PreviewError(e.reason) from e
        buf = io.BytesIO()
        img.save(buf, format="PNG", compress_level=1)
        body = buf.getvalue()
    with _lock:
        _cache[key] = body
        while len(_cache) > CACHE_ENTRIES:
            _cache.popitem(last=False)
    return body
