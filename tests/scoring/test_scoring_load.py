"""load_scorer: local checkpoints, registry names, the default model and one-line errors."""

from __future__ import annotations

import pytest
import torch
from PIL import Image
from skimage import data
from typer.testing import CliRunner

import fgaesq.model.loading as loading
from fgaesq.cli import app
from fgaesq.model import create_model, save_checkpoint
from fgaesq.scoring import ScorerError, load_scorer
from fgaesq.scoring.lite import LiteScorer
from fgaesq.scoring.vit import FGAesQScorer


@pytest.fixture()
def tiny_file(tmp_path):
    torch.manual_seed(0)
    return save_checkpoint(create_model("fgaesq-tiny"), tmp_path / "w" / "tiny.safetensors")


def test_local_file_and_folder(tiny_file):
    by_file = load_scorer(str(tiny_file), device="cpu", batch_size=4)
    assert isinstance(by_file, FGAesQScorer) and "local file" in by_file.name and "fgaesq-tiny" in by_file.name
    assert by_file.preprocess.max_size == 2048  # the checkpoint's preprocessing
    by_dir = load_scorer(tiny_file.parent, device="cpu")
    assert by_dir.model.config.name == "fgaesq-tiny"
    assert load_scorer(f"local-dir:{tiny_file.parent}", device="cpu", max_size=512).preprocess.max_size == 512


def test_default_is_the_shipped_lite_when_nothing_is_cached(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    scorer = load_scorer(None, device="cpu")
    assert isinstance(scorer, LiteScorer)
    assert scorer.name.startswith("fgaesq-lite") and "fgaesq-vit-b-16 is not in the Hugging Face cache" in scorer.name
    assert isinstance(load_scorer("fgaesq-lite", device="cpu"), LiteScorer)


def test_bad_specs_give_one_clear_line(tmp_path):
    with pytest.raises(ScorerError, match="/no/such.pt"):
        load_scorer("/no/such.pt", device="cpu")
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not safetensors")
    with pytest.raises(ScorerError) as info:
        load_scorer(str(junk), device="cpu")
    assert "\n" not in str(info.value) and "junk.safetensors" in str(info.value)
    with pytest.raises(ScorerError, match="fgaesq-tiny: no released weights"):
        load_scorer("fgaesq-tiny", device="cpu")
    photo = tmp_path / "p.png"
    Image.fromarray(data.coffee()).save(photo)
    for cmd in (["score", str(photo)], ["rank", str(tmp_path)], ["eval", "--data", str(photo)]):
        res = CliRunner().invoke(app, [*cmd, "--weights", "fgaesq-tiny"])
        assert res.exit_code == 2, cmd
        assert res.output.count("fgaesq-tiny") == 2 and "--weights fgaesq-tiny: no released weights" in res.output
    with pytest.raises(ScorerError, match="--device must be one of"):
        load_scorer("fgaesq-lite", device="tpu")
    with pytest.raises(ScorerError, match="fgaesq-lite runs in float32"):
        load_scorer("fgaesq-lite", device="cpu", precision="bf16")


def test_cli_precision_bf16_scores_with_a_checkpoint(tiny_file, tmp_path):
    """`fgaesq score --precision bf16` on the CPU runs and gives scores close to float32; a bad value is a usage error."""
    import json

    photo = tmp_path / "p.png"
    Image.fromarray(data.coffee()).save(photo)
    runs = {}
    for precision in ("auto", "bf16"):
        res = CliRunner().invoke(app, ["score", str(photo), "--weights", str(tiny_file), "--device", "cpu",
                                       "--precision", precision, "--json", "-q"])
        assert res.exit_code == 0, res.output
        runs[precision] = json.loads(res.stdout)["images"][0]["score"]
    assert runs["auto"] != runs["bf16"] and abs(runs["auto"] - runs["bf16"]) < 0.05
    res = CliRunner().invoke(app, ["score", str(photo), "--weights", str(tiny_file), "--precision", "fp8"])
    assert res.exit_code == 2 and "--precision must be one of" in res.output


def test_missing_shipped_weights_say_how_to_fix(monkeypatch, tmp_path):
    monkeypatch.setattr(loading, "WEIGHTS_DIR", tmp_path / "empty")  # an installation that lost its weights
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))  # and has nothing in the Hugging Face cache
    with pytest.raises(ScorerError, match="shipped weights are missing.*reinstall fgaesq"):
        load_scorer(None, device="cpu")
    photo = tmp_path / "p.png"
    Image.fromarray(data.coffee()).save(photo)
    res = CliRunner().invoke(app, ["score", str(photo)])
    assert res.exit_code == 2
    assert "reinstall fgaesq" in res.stderr and len(res.stderr.strip().splitlines()) == 1
