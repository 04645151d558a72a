"""The model registry: every family registered the same way, built by name, with its pretrained config."""

from __future__ import annotations

import pytest
import torch
from PIL import Image
from skimage import data

from fgaesq.model import (
    CheckpointError,
    FGAesQ,
    create_model,
    get_config,
    get_pretrained_cfg,
    list_models,
    load_model,
    make_tokenizer,
    read_checkpoint_info,
    register_config,
    save_checkpoint,
)
from fgaesq.model.lite import FGAesQLite
from fgaesq.train.config import load_config
from fgaesq.train.run import build_model


def test_every_family_is_listed_with_its_pretrained_config():
    assert {"fgaesq-vit-b-16", "fgaesq-tiny", "fgaesq-lite"} <= set(list_models())
    vit, lite, tiny = (get_pretrained_cfg(n) for n in ("fgaesq-vit-b-16", "fgaesq-lite", "fgaesq-tiny"))
    assert (vit.family, vit.weights, vit.layout) == ("vit", "hf-hub:yzc002/FGAesQ", "authors")
    assert vit.tokenizer.seq_len == 512 and vit.preprocess.max_size == 2048 and vit.licence
    assert (lite.family, lite.weights, lite.tokenizer) == ("lite", "package:fgaesq-lite.safetensors", None)
    assert lite.preprocess.max_size == 512 and "Apache-2.0" in lite.licence
    assert tiny.weights is None


def test_create_model_builds_any_family_with_overrides(tmp_path):
    lite = create_model("fgaesq-lite", n_crops=3)
    assert isinstance(lite, FGAesQLite) and lite.config.n_crops == 3 and lite.preprocess.max_size == 512
    tiny = create_model("fgaesq-tiny", layers=3)
    assert isinstance(tiny, FGAesQ) and len(tiny.visual.transformer.resblocks) == 3
    small = read_checkpoint_info(save_checkpoint(create_model("fgaesq-lite", work_size=384), tmp_path / "s"))
    assert small.preprocess.max_size == 384 and small.family == "lite"  # its preprocessing follows its config
    with pytest.raises(ValueError, match="unknown model 'vit-huge'.*fgaesq-lite"):
        create_model("vit-huge")


def test_a_new_configuration_is_a_model_everywhere(tmp_path):
    register_config(get_config("fgaesq-tiny").to_dict() | {"name": "test-reg-micro", "width": 32, "heads": 1,
                                                            "layers": 1}, overwrite=True)
    assert "test-reg-micro" in list_models() and get_pretrained_cfg("test-reg-micro").family == "vit"
    torch.manual_seed(0)
    model = create_model("test-reg-micro")
    back = load_model(save_checkpoint(model, tmp_path / "micro.safetensors"))
    assert back.config.name == "test-reg-micro"
    assert all(torch.equal(v, back.state_dict()[k]) for k, v in model.state_dict().items())


def test_the_tokenizer_follows_the_model_config():
    model = create_model("fgaesq-tiny", seq_len=128)
    tokens = make_tokenizer(model).single(Image.fromarray(data.astronaut()))
    assert tokens.patches.shape[0] == 128


def test_init_checkpoint_with_a_factory_is_loaded_not_ignored(tmp_path):
    torch.manual_seed(3)
    start = save_checkpoint(create_model("fgaesq-tiny"), tmp_path / "start.safetensors")
    cfg = load_config(None, {"model": "fgaesq-tiny", "factory": "fgaesq.model:create_model", "init": str(start)})
    built = build_model(cfg)
    loaded = load_model(start)
    assert all(torch.equal(v, loaded.state_dict()[k]) for k, v in built.state_dict().items())
    lite = save_checkpoint(create_model("fgaesq-lite"), tmp_path / "lite.safetensors")
    cfg = load_config(None, {"model": "fgaesq-tiny", "factory": "fgaesq.model:create_model", "init": str(lite)})
    with pytest.raises(CheckpointError, match="does not fit the FGAesQ built by --factory"):
        build_model(cfg)
