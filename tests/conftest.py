"""Shared fixtures: locations of the golden vectors and real photos."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from fgaesq.paths import shared_dir

torch.set_num_threads(1)

SHARED = shared_dir()
GOLDEN = SHARED / "golden"
CLIVE = SHARED / "data" / "clive"


@pytest.fixture(scope="session")
def golden_dir() -> Path:
    if not GOLDEN.is_dir():
        pytest.fail(f"golden vectors not found at {GOLDEN} (set FGAESQ_SHARED)")
    return GOLDEN


@pytest.fixture(scope="session")
def clive_dir() -> Path:
    if not CLIVE.is_dir():
        pytest.fail(f"CLIVE photos not found at {CLIVE} (set FGAESQ_SHARED)")
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
