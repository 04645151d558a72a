"""Locations of data that ships beside the repository (golden vectors, CLIVE) and inside the package."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def shared_dir() -> Path:
    """The project's shared data folder: $FGAESQ_SHARED, else ../shared beside the repository root."""
    env = os.environ.get("FGAESQ_SHARED")
    if env:
        return Path(env)
    return PACKAGE_DIR.parents[2] / "shared"
