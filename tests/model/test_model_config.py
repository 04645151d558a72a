"""Model configurations: registry, overlays, JSON data."""

from __future__ import annotations

import json

import pytest

from fgaesq.model import ConfigError, ModelConfig, create_model, get_config, list_models, register_config
from fgaesq.paths import PACKAGE_DIR


def test_registry_has_paper_and_tiny_models():
    assert {"fgaesq-vit-b-16", "fgaesq-tiny"} <= set(list_models())
    paper = get_config("fgaesq-vit-b-16")
    assert (paper.width, paper.layers, paper.heads, paper.patch_size, paper.grid_size) == (768, 12, 12, 16, 14)
    assert (paper.embed_dim, paper.seq_len, paper.scales, paper.head_hidden, paper.num_bins) == (512, 512, 2, (256, 64), 10)
    tiny = get_config("fgaesq-tiny")
    assert (tiny.width, tiny.layers, tiny.heads, tiny.grid_size, tiny.embed_dim) == (64, 2, 2, 14, 32)


def test_configs_are_json_files_in_the_package():
    files = sorted((PACKAGE_DIR / "model" / "configs").glob("*.json"))
    names = {json.loads(f.read_text())["name"] for f in files}
    assert {"fgaesq-tiny", "fgaesq-vit-b-16"} <= names <= set(list_models())
    for f in files:
        data = json.loads(f.read_text())
        assert ModelConfig.from_dict(data).to_dict()["name"] == f.stem


def test_overrides_overlay_the_registered_config():
    cfg = get_config("fgaesq-tiny", layers=3, compat=True)
    assert cfg.layers == 3 and cfg.compat and cfg.width == 64
    assert get_config("fgaesq-tiny").layers == 2  # registry entry unchanged
    model = create_model("fgaesq-tiny", layers=3)
    assert len(model.visual.transformer.resblocks) == 3


def test_unknown_name_and_field_are_clear_errors():
    with pytest.raises(ConfigError, match="unknown model 'vit-huge'.*fgaesq-tiny"):
        get_config("vit-huge")
    with pytest.raises(ConfigError, match="unknown override.*depth"):
        get_config("fgaesq-tiny", depth=4)
    with pytest.raises(ConfigError, match="not divisible"):
        get_config("fgaesq-tiny", heads=3)


def test_register_config_from_json_file(tmp_path):
    data = get_config("fgaesq-tiny").to_dict() | {"name": "test-micro", "width": 32, "heads": 1, "layers": 1}
    path = tmp_path / "micro.json"
    path.write_text(json.dumps(data))
    register_config(path, overwrite=True)
    assert "test-micro" in list_models()
    with pytest.raises(ConfigError, match="already registered"):
        register_config(path)
    assert create_model("test-micro").width == 32
