"""fgaesq.model: the FGAesQ network (CLIP ViT-B/16 over DiffToken sequences), its configs and weight sources.

Scores are in [1, 10], higher is better; rankings are only meaningful within a series.
"""

from fgaesq.model.authors import (
    authors_state_dict,
    infer_config,
    load_authors_checkpoint,
    load_authors_model,
    map_authors_state_dict,
)
from fgaesq.model.checkpoint import load_checkpoint, save_checkpoint
from fgaesq.model.config import ConfigError, ModelConfig, get_config, list_models, register_config
from fgaesq.model.loading import load_model, resolve_hf_hub
from fgaesq.model.network import FGAesQ, FGAesQOutput, create_model, split_mask
from fgaesq.model.openai import OpenAIWeightsError, load_openai_visual
from fgaesq.model.statedict import CheckpointError, LoadReport

__all__ = [
    "CheckpointError",
    "ConfigError",
    "FGAesQ",
    "FGAesQOutput",
    "LoadReport",
    "ModelConfig",
    "OpenAIWeightsError",
    "authors_state_dict",
    "create_model",
    "get_config",
    "infer_config",
    "list_models",
    "load_authors_checkpoint",
    "load_authors_model",
    "load_checkpoint",
    "load_model",
    "load_openai_visual",
    "map_authors_state_dict",
    "register_config",
    "resolve_hf_hub",
    "save_checkpoint",
    "split_mask",
]
