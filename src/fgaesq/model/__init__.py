"""fgaesq.model: the registry of FGAesQ models (ViT over DiffToken sequences, fgaesq-lite), their checkpoints and
weight sources.

Scores are in [1, 10], higher is better; rankings are only meaningful within a series.
"""

from fgaesq.model.authors import (
    authors_state_dict,
    infer_config,
    load_authors_checkpoint,
    load_authors_model,
    map_authors_state_dict,
)
from fgaesq.model.checkpoint import CheckpointInfo, load_checkpoint, read_checkpoint_info, save_checkpoint
from fgaesq.model.config import ConfigError, ModelConfig, get_config, register_config
from fgaesq.model.loading import load_model, resolve_hf_hub
from fgaesq.model.network import FGAesQ, FGAesQOutput, split_mask
from fgaesq.model.openai import OpenAIWeightsError, load_openai_visual
from fgaesq.model.registry import (
    Preprocess,
    PretrainedCfg,
    TokenizerSettings,
    create_model,
    get_pretrained_cfg,
    list_models,
    make_tokenizer,
    preprocess_of,
    register_model,
)
from fgaesq.model.statedict import CheckpointError, LoadReport

__all__ = [
    "CheckpointError",
    "CheckpointInfo",
    "ConfigError",
    "FGAesQ",
    "FGAesQOutput",
    "LoadReport",
    "ModelConfig",
    "OpenAIWeightsError",
    "Preprocess",
    "PretrainedCfg",
    "TokenizerSettings",
    "authors_state_dict",
    "create_model",
    "get_config",
    "get_pretrained_cfg",
    "infer_config",
    "list_models",
    "load_authors_checkpoint",
    "load_authors_model",
    "load_checkpoint",
    "load_model",
    "load_openai_visual",
    "make_tokenizer",
    "map_authors_state_dict",
    "preprocess_of",
    "read_checkpoint_info",
    "register_config",
    "register_model",
    "resolve_hf_hub",
    "save_checkpoint",
    "split_mask",
]
