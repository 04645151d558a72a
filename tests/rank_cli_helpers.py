"""Helpers shared by the CLI tests: load the photo helpers of tests/rank and tests/io, save tiny weights."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch

HERE = Path(__file__).parent


def _load(name: str, rel: str):
    spec = importlib.util.spec_from_file_location(name, HERE / rel)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


burst_photos = _load("fgaesq_test_burst_photos", "rank/rank_burst_photos.py")
bad_files = _load("fgaesq_test_bad_files", "io/io_bad_files.py")


def save_tiny_weights(folder: Path) -> Path:
    """A seeded random fgaesq-tiny saved as our checkpoint format (safetensors + json)."""
    from fgaesq.model import create_model, save_checkpoint

    torch.manual_seed(1234)
    return save_checkpoint(create_model("fgaesq-tiny"), folder / "tiny.safetensors")
