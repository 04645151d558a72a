"""Where the review app keeps what it makes: thumbnails, previews and rankings in a cache folder, decisions in a
state folder (never next to the photos)."""

from __future__ import annotations

import hashlib
import io
import os
import threading
from pathlib import Path

import platformdirs

from fgaesq.io import load_image

#: Long side in pixels of each kind of reduced copy; `full` keeps the photo's own size (for 100 % zoom).
SIZES = {"thumb": 320, "preview": 1600, "full": None}
QUALITY = {"thumb": 80, "preview": 88, "full": 92}


def folder_key(root: str | os.PathLike) -> str:
    """A short stable name for a photo folder (hash of its resolved path)."""
    return hashlib.sha1(str(Path(root).resolve()).encode("utf-8")).hexdigest()[:16]


def default_cache_dir(root: str | os.PathLike) -> Path:
    """`<user cache dir>/fgaesq/review/<folder hash>`: thumbnails, previews, cached rankings."""
    return Path(platformdirs.user_cache_dir("fgaesq")) / "review" / folder_key(root)


def default_state_dir(root: str | os.PathLike) -> Path:
    """`<user state dir>/fgaesq/review/<folder hash>`: the decisions database."""
    return Path(platformdirs.user_state_dir("fgaesq")) / "review" / folder_key(root)


class PreviewCache:
    """Reduced JPEG copies of photos, made once (through `fgaesq.io.load_image`) and reused while the file is unchanged."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _name(self, path: Path, kind: str) -> Path:
        st = path.stat()
        key = f"{path.resolve()}\x1f{st.st_size}\x1f{st.st_mtime_ns}\x1f{SIZES[kind]}"
        digest = hashlib.sha1(key.encode("utf-8")).hexdigest()
        return self.folder / kind / digest[:2] / f"{digest}.jpg"

    def get(self, path: str | os.PathLike, kind: str) -> Path:
        """The cached JPEG of `path` at size `kind` (thumb | preview | full), made now if missing; raises ImageError."""
        if kind not in SIZES:
            raise ValueError(f"kind must be one of {', '.join(SIZES)}")
        src = Path(path)
        target = self._name(src, kind)
        if target.is_file():
            return target
        with self._guard:
            lock = self._locks.setdefault(str(target), threading.Lock())
        with lock:
            if target.is_file():
                return target
            img = load_image(src, SIZES[kind], max_pixels=400_000_000)
            buf = io.BytesIO()
            img.save(buf, format="JPEG", quality=QUALITY[kind], optimize=kind == "thumb")
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.part")
            tmp.write_bytes(buf.getvalue())
            os.replace(tmp, target)
        return target

    def warm(self, paths: list[Path], kinds: tuple[str, ...] = ("thumb",), progress=None) -> int:
        """Make the given kinds for every path now (skipping unreadable ones); returns how many failed."""
        failed = 0
        for p in paths:
            for kind in kinds:
                try:
                    self.get(p, kind)
                except Exception:  # noqa: BLE001 - an unreadable photo must not stop the others
                    failed += 1
            if progress is not None:
                progress(1)
        return failed
