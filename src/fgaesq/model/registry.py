"""The model registry: every model (ViT families, fgaesq-lite, whatever comes next) is registered the same way.

timm-style: ``@register_model(name, PretrainedCfg(...))`` on a function that builds the model from keyword
overrides. The pretrained config says where released weights come from, under which licence, and how images
must be prepared (preprocessing and tokenizer settings); it travels into every checkpoint written from the model.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from fgaesq.io import DEFAULT_MAX_SIZE
from fgaesq.model.config import ConfigError


@dataclass(frozen=True)
class Preprocess:
    """How an image is decoded before the model sees it: long-side limit and JPEG draft decoding."""

    max_size: int | None = DEFAULT_MAX_SIZE
    draft: bool = True

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Preprocess:
        """Build from a JSON dict (None = defaults)."""
        return cls(**(d or {}))


@dataclass(frozen=True)
class TokenizerSettings:
    """DiffToken settings of a token model: token budget per image and the authors' compat behaviour."""

    seq_len: int = 512
    compat: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class PretrainedCfg:
    """Where a registered model's weights come from and what its inputs need."""

    family: str  # "vit" (DiffToken over a CLIP ViT) or "lite" (EfficientNet-Lite0 views)
    weights: str | None = None  # "package:FILE" (inside fgaesq/weights), "hf-hub:ORG/REPO[/FILE]" or a URL
    layout: str = "fgaesq"  # "fgaesq" (our checkpoint format) or "authors" (the authors' .pt)
    licence: str = ""
    preprocess: Preprocess = field(default_factory=Preprocess)
    tokenizer: TokenizerSettings | None = None  # None: the model does not take DiffToken sequences
    description: str = ""


@dataclass(frozen=True)
class ModelEntry:
    """One registry entry: the builder and its pretrained config."""

    name: str
    build: Callable[..., nn.Module]
    pretrained: PretrainedCfg


_MODELS: dict[str, ModelEntry] = {}


def register_model(
    name: str, pretrained: PretrainedCfg, *, overwrite: bool = False
) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    """Decorator: register `fn(**overrides) -> nn.Module` as model `name` with its pretrained config."""

    def deco(fn: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if name in _MODELS and not overwrite:
            raise ConfigError(f"model {name!r} is already registered (pass overwrite=True)")
        _MODELS[name] = ModelEntry(name, fn, pretrained)
        return fn

    return deco


def _builtin() -> None:
    import fgaesq.model.zoo  # noqa: F401 - registers the built-in models on import


def list_models() -> list[str]:
    """Names of every registered model (fgaesq-lite, fgaesq-tiny, fgaesq-vit-b-16, ...)."""
    _builtin()
    return sorted(_MODELS)


def get_entry(name: str) -> ModelEntry:
    """The registry entry of `name`; ConfigError naming the known models otherwise."""
    _builtin()
    if name not in _MODELS:
        raise ConfigError(f"unknown model {name!r}; known models: {', '.join(list_models())}")
    return _MODELS[name]


def get_pretrained_cfg(name: str) -> PretrainedCfg:
    """The pretrained config (weights source, licence, preprocessing, tokenizer) of model `name`."""
    return get_entry(name).pretrained


def create_model(name: str = "fgaesq-vit-b-16", **overrides: Any) -> nn.Module:
    """A new model of registered architecture `name` (config fields overridable); released weights not loaded."""
    entry = get_entry(name)
    model = entry.build(**overrides)
    model.preprocess = entry.pretrained.preprocess
    return model


def preprocess_of(model: nn.Module) -> Preprocess:
    """The preprocessing `model` needs: from its checkpoint, else its registry entry, else the defaults."""
    pre = getattr(model, "preprocess", None)
    if isinstance(pre, Preprocess):
        return pre
    name = getattr(getattr(model, "config", None), "name", None)
    _builtin()
    return _MODELS[name].pretrained.preprocess if name in _MODELS else Preprocess()


def tokenizer_settings(model: nn.Module) -> TokenizerSettings:
    """Token budget and compat of a token model, read from its config (seq_len) and its compat flag."""
    cfg = getattr(model, "config", None)
    return TokenizerSettings(seq_len=int(getattr(cfg, "seq_len", 512)), compat=bool(getattr(model, "compat", True)))


def make_tokenizer(model: nn.Module, **options: Any):
    """The DiffTokenizer of a token model, built from its config (seq_len, compat) and positional table."""
    from fgaesq.tokenize import DiffTokenizer

    if not hasattr(model, "pos_source"):
        raise TypeError(f"{type(model).__name__} does not take DiffToken sequences (no pos_source)")
    t = tokenizer_settings(model)
    opts = {"seq_len": t.seq_len, "compat": t.compat, **options}
    return DiffTokenizer(model.pos_source.detach().float().cpu(), **opts)
