"""Shared fixtures: locations of the golden vectors and the CLIVE photos that ship with the tests."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

torch.set_num_threads(1)

TESTS = Path(__file__).resolve().parent
GOLDEN = TESTS / "golden"
CLIVE = TESTS / "assets" / "clive"


@pytest.fixture(scope="session")
def golden_dir() -> Path:
    """The trimmed golden parity vectors in tests/golden."""
    return GOLDEN


@pytest.fixture(scope="session")
def clive_dir() -> Path:
    """40 CLIVE photos (reduced to 128 px) with their scores and notice, in tests/assets/clive."""
    return CLIVE
