"""Where the benchmarks find the CLIVE photos: $FGAESQ_CLIVE (a full CLIVE folder), else the tests' subset."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TESTS_CLIVE = REPO / "tests" / "assets" / "clive"


def clive_dir() -> Path:
    """A CLIVE-layout folder (images/, labels.csv, LIVE-NOTICE.txt): $FGAESQ_CLIVE, else tests/assets/clive."""
    env = os.environ.get("FGAESQ_CLIVE")
    return Path(env) if env else TESTS_CLIVE
