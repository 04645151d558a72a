"""Choosing the model: local checkpoints, registry names, and the no-weights message."""

from __future__ import annotations

import sys

import pytest
import torch
from typer.testing import CliRunner

from fgaesq.cli import app
from fgaesq.model import create_model, save_checkpoint
from fgaesq.rank.scorer import FGAesQScorer
from fgaesq.rank.weights import HOW_TO_GET_WEIGHTS, WeightsError, resolve_scorer


@pytest.fixture()
def tiny_file(tmp_path):
    torch.manual_seed(0)
    return save_checkpoint(create_model("fgaesq-tiny"), tmp_path / "w" / "tiny.safetensors")


def test_local_file_and_folder(tiny_file):
    by_file = resolve_scorer(str(tiny_file), "cpu", batch_size=4)
    assert isinstance(by_file, FGAesQScorer) and "local file" in by_file.name and "fgaesq-tiny" in by_file.name
    by_dir = resolve_scorer(str(tiny_file.parent), "cpu")
    assert by_dir.model.config.name == "fgaesq-tiny"


def test_bad_specs_give_one_clear_line(tmp_path):
    with pytest.raises(WeightsError, match="--weights /no/such.pt"):
        resolve_scorer("/no/such.pt", "cpu")
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not safetensors")
    with pytest.raises(WeightsError) as info:
        resolve_scorer(str(junk), "cpu")
    assert "\n" not in str(info.value) and "junk.safetensors" in str(info.value)


def test_no_weights_without_starter_model_says_how_to_get_weights(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "fgaesq.model.lite", None)  # this installation ships no fgaesq-lite
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # and has nothing in the Hugging Face cache
    with pytest.raises(WeightsError, match="no model weights"):
        resolve_scorer(None, "cpu")
    photo = tmp_path / "p.png"
    from PIL import Image
    from skimage import data

    Image.fromarray(data.coffee()).save(photo)
    res = CliRunner().invoke(app, ["score", str(photo)])
    assert res.exit_code == 2
    assert HOW_TO_GET_WEIGHTS.split(";")[0] in res.stderr and len(res.stderr.strip().splitlines()) == 1
