"""Fixtures for ranking tests: a seeded tiny FGAesQ scorer and real-photo bursts."""

from __future__ import annotations

import pytest
import torch

from fgaesq.model import create_model
from fgaesq.rank.scorer import FGAesQScorer


@pytest.fixture(scope="session")
def tiny_model():
    torch.manual_seed(1234)
    return create_model("fgaesq-tiny").eval()


@pytest.fixture(scope="session")
def tiny_scorer(tiny_model):
    return FGAesQScorer(tiny_model, name="fgaesq-tiny (seed 1234)", device="cpu", batch_size=8, max_size=512)
