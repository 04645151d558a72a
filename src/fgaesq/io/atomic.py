"""Writing output files safely: a unique temporary file in the target folder, renamed over the target on success.

Nothing is written through a symbolic link, a half-written file is never left behind, and a failure removes the
temporary file again.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO


class OutputError(OSError):
    """An output file could not be written; the message names the file, the reason and the fix."""

    def __init__(self, path: str | os.PathLike, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


def _refuse_links(path: Path) -> None:
    """An existing target that is a symbolic link or not a regular file is refused (never written through)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(st.st_mode):
        raise OutputError(path, "is a symbolic link; fgaesq never writes through links - replace it with a file")
    if not stat.S_ISREG(st.st_mode):
        raise OutputError(path, "exists and is not a regular file; choose another name")


def _mode_for(path: Path) -> int:
    """Permissions of the file being replaced, else the usual 0o666 minus the umask."""
    try:
        return stat.S_IMODE(os.lstat(path).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextlib.contextmanager
def atomic_open(
    path: str | os.PathLike, mode: str = "w", *, encoding: str | None = "utf-8", errors: str | None = None,
    newline: str | None = None, make_parents: bool = False,
) -> Iterator[IO]:
    """Open a temporary file next to `path`; it replaces `path` when the block succeeds, else it is removed."""
    path = Path(path)
    if make_parents:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise OutputError(path, f"cannot create its folder ({e.strerror or e}); check the path") from e
    elif not path.parent.is_dir():
        raise OutputError(path, f"folder {path.parent} does not exist; create it first or choose another path")
    _refuse_links(path)
    binary = "b" in mode
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise OutputError(path, f"cannot write in {path.parent} ({e.strerror or e}); check its permissions") from e
    try:
        os.chmod(tmp, _mode_for(path))
        kwargs = {} if binary else {"encoding": encoding, "errors": errors, "newline": newline}
        with os.fdopen(fd, "wb" if binary else "w", **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write_text(
    path: str | os.PathLike, text: str, *, encoding: str = "utf-8", errors: str | None = None,
    make_parents: bool = False,
) -> Path:
    """Write a whole text file atomically (see `atomic_open`); returns the path."""
    try:
        with atomic_open(path, encoding=encoding, errors=errors, newline="", make_parents=make_parents) as fh:
            fh.write(text)
    except OutputError:
        raise
    except OSError as e:
        raise OutputError(path, f"cannot write ({e.strerror or e}); check the disk and permissions") from e
    except UnicodeEncodeError as e:
        raise OutputError(path, f"text cannot be written as {encoding} ({e.reason} at {e.start}); nothing was "
                          "written") from e
    return Path(path)
