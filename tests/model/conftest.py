"""Fixtures for the model tests: tiny real models and the ViT-B/16 sinhash checkpoint (built once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from model_helpers import text_tower_stub

from fgaesq.model import FGAesQ, create_model, load_model
from sinhash import sinhash_authors_state_dict


@pytest.fixture
def tiny() -> FGAesQ:
    torch.manual_seed(0)
    return create_model("fgaesq-tiny").eval()


@pytest.fixture(scope="session")
def vitb_authors_file(tmp_path_factory) -> Path:
    """The ViT-B/16 sinhash weights written as an authors'-layout checkpoint (aliases + a text-tower stub)."""
    sd = sinhash_authors_state_dict("fgaesq-vit-b-16")
    sd.update(text_tower_stub(512))
    path = tmp_path_factory.mktemp("authors") / "best.pt"
    torch.save(sd, path)
    return path


@pytest.fixture(scope="session")
def vitb(vitb_authors_file) -> FGAesQ:
    """ViT-B/16 loaded from the authors'-layout sinhash checkpoint through the real loader."""
    return load_model(vitb_authors_file)
