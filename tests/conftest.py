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


@pytest.fixture(scope="session")
def tiny_model():
    """A seeded random fgaesq-tiny (the real ViT architecture, tiny): scores are meaningless but deterministic."""
    from fgaesq.model import create_model

    torch.manual_seed(1234)
    return create_model("fgaesq-tiny").eval()


@pytest.fixture(scope="session")
def tiny_scorer(tiny_model):
    from fgaesq.scoring.vit import FGAesQScorer

    return FGAesQScorer(tiny_model, name="fgaesq-tiny (seed 1234)", device="cpu", batch_size=8, max_size=512)
