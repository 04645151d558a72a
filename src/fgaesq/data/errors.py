"""The one error type of the data loaders: names the file, the line and the reason."""

from __future__ import annotations

from pathlib import Path


class DataFormatError(ValueError):
    """A label file that cannot be read; the message is `file:line: reason`."""

    def __init__(self, path: str | Path, line: int | None, reason: str) -> None:
        self.path = Path(path)
        self.line = line
        self.reason = reason
        where = f"{self.path}:{line}" if line is not None else str(self.path)
        super().__init__(f"{where}: {reason}")

    @classmethod
    def raw(cls, message: str) -> DataFormatError:
        """An error from a message that already names the file (and line)."""
        err = cls.__new__(cls)
        err.path, err.line, err.reason = None, None, message
        ValueError.__init__(err, message)
        return err
