"""Model configurations as data: the JSON files in ``configs/`` form a small registry (timm-style overlay)."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    """An unknown model name or an invalid configuration value."""


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of one FGAesQ model (CLIP ViT image tower + scale/mask embeddings + score head)."""

    name: str
    width: int
    layers: int
    heads: int
    patch_size: int = 16
    grid_size: int = 14
    mlp_ratio: float = 4.0
    embed_dim: int = 512
    seq_len: int = 512
    scales: int = 2
    head_hidden: tuple[int, ...] = (256, 64)
    head_dropout: tuple[float, ...] = (0.2, 0.1)
    num_bins: int = 10
    compat: bool = False
    pretrained: dict[str, Any] | None = field(default=None, compare=False)
    description: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "head_hidden", tuple(int(h) for h in self.head_hidden))
        object.__setattr__(self, "head_dropout", tuple(float(p) for p in self.head_dropout))
        if len(self.head_hidden) != len(self.head_dropout):
            raise ConfigError(f"{self.name}: head_hidden and head_dropout need the same length")
        if self.width % self.heads:
            raise ConfigError(f"{self.name}: width {self.width} is not divisible by heads {self.heads}")
        for key in ("width", "layers", "heads", "patch_size", "grid_size", "embed_dim", "seq_len", "scales"):
            if int(getattr(self, key)) < 1:
                raise ConfigError(f"{self.name}: {key} must be >= 1")

    @property
    def image_size(self) -> int:
        """Side of the square image the positional table was made for (grid_size * patch_size)."""
        return self.grid_size * self.patch_size

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (tuples as lists)."""
        d = dataclasses.asdict(self)
        d["head_hidden"] = list(self.head_hidden)
        d["head_dropout"] = list(self.head_dropout)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        """Build from a dict, refusing unknown keys with a clear message."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown model config field(s) {unknown}; known: {sorted(known)}")
        if "name" not in data:
            raise ConfigError("model config has no 'name'")
        return cls(**data)


_REGISTRY: dict[str, ModelConfig] = {}


def _load_builtin() -> None:
    for entry in sorted(resources.files("fgaesq.model").joinpath("configs").iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".json"):
            cfg = ModelConfig.from_dict(json.loads(entry.read_text(encoding="utf-8")))
            _REGISTRY[cfg.name] = cfg


def register_config(config: ModelConfig | dict[str, Any] | str | Path, *, overwrite: bool = False) -> ModelConfig:
    """Add a ViT configuration (object, dict or JSON file) to the registry (as a model too) and return it."""
    if isinstance(config, (str, Path)):
        config = json.loads(Path(config).read_text(encoding="utf-8"))
    if isinstance(config, dict):
        config = ModelConfig.from_dict(config)
    if config.name in _REGISTRY and not overwrite:
        raise ConfigError(f"model config {config.name!r} is already registered (pass overwrite=True)")
    _REGISTRY[config.name] = config
    from fgaesq.model.zoo import register_vit

    register_vit(config, overwrite=True)
    return config


def list_configs() -> list[str]:
    """Names of all registered ViT configurations (the registry's list_models() lists every model)."""
    return sorted(_REGISTRY)


def get_config(name: str, **overrides: Any) -> ModelConfig:
    """The registered configuration `name`, with fields replaced by `overrides`."""
    if name not in _REGISTRY:
        raise ConfigError(f"unknown model {name!r}; known configurations: {', '.join(list_configs())}")
    cfg = _REGISTRY[name]
    if overrides:
        known = {f.name for f in dataclasses.fields(ModelConfig)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ConfigError(f"unknown override(s) {unknown} for model {name!r}; known fields: {sorted(known)}")
        cfg = dataclasses.replace(cfg, **overrides)
    return cfg


def find_config(*, width: int, layers: int, patch_size: int, grid_size: int, embed_dim: int) -> ModelConfig | None:
    """The first registered configuration with this tower shape (used to name a checkpoint's architecture)."""
    for name in list_configs():
        c = _REGISTRY[name]
        if (c.width, c.layers, c.patch_size, c.grid_size, c.embed_dim) == (width, layers, patch_size, grid_size, embed_dim):
            return c
    return None


_load_builtin()
