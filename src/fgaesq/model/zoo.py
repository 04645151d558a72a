"""The built-in models, registered with `register_model`: the ViT configurations in configs/*.json and fgaesq-lite."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from torch import nn

from fgaesq.model.config import ModelConfig, get_config, list_configs
from fgaesq.model.registry import Preprocess, PretrainedCfg, TokenizerSettings, register_model

AUTHORS_LICENCE = "none stated by the authors (https://huggingface.co/yzc002/FGAesQ); research use at your own risk"
LITE_LICENCE = (
    "backbone: Apache-2.0 (fgaesq/weights/NOTICE-efficientnet-lite.txt); head trained on LIVE Challenge photos, "
    "research use only (fgaesq/weights/LIVE-NOTICE.txt)"
)


def vit_pretrained_cfg(config: ModelConfig) -> PretrainedCfg:
    """The pretrained config of a ViT configuration (its JSON `pretrained` block)."""
    p = dict(config.pretrained or {})
    hub = p.get("hf_hub")
    return PretrainedCfg(
        family="vit",
        weights=f"hf-hub:{hub}" if hub else p.get("weights"),
        layout=p.get("layout", "fgaesq"),
        licence=p.get("licence", AUTHORS_LICENCE if p.get("layout") == "authors" else ""),
        preprocess=Preprocess.from_dict(p.get("preprocess")),
        tokenizer=TokenizerSettings(seq_len=config.seq_len, compat=config.compat),
        description=config.description,
    )


def register_vit(config: ModelConfig, *, overwrite: bool = False) -> None:
    """Register a ViT configuration as a model (called for configs/*.json and by register_config)."""
    from fgaesq.model.network import FGAesQ

    name = config.name

    def build(**overrides: Any) -> nn.Module:
        return FGAesQ(get_config(name, **overrides))

    register_model(name, vit_pretrained_cfg(config), overwrite=overwrite)(build)


def _lite_pretrained_cfg() -> PretrainedCfg:
    from fgaesq.model.lite import LiteConfig

    return PretrainedCfg(
        family="lite",
        weights="package:fgaesq-lite.safetensors",
        layout="fgaesq",
        licence=LITE_LICENCE,
        preprocess=Preprocess(max_size=LiteConfig().work_size),
        tokenizer=None,
        description="Offline starter model: frozen EfficientNet-Lite0 ImageNet statistics of a global view and "
        "crops, projected to 512-d and scored by the FGAesQ head; runs on a CPU.",
    )


@register_model("fgaesq-lite", _lite_pretrained_cfg())
def fgaesq_lite(*, pretrained_backbone: bool = True, **overrides: Any) -> nn.Module:
    """fgaesq-lite with the ImageNet backbone and a fresh head (LiteConfig fields overridable)."""
    from fgaesq.model.lite import FGAesQLite, LiteConfig

    return FGAesQLite(LiteConfig(**overrides), pretrained_backbone=pretrained_backbone)


_LITE_REF = replace(_lite_pretrained_cfg(), weights=None,
                    description="fgaesq-lite trained on pair crops of fine items (no released weights).")


@register_model("fgaesq-lite+ref", _LITE_REF)
def fgaesq_lite_ref(*, pretrained_backbone: bool = True, **overrides: Any) -> nn.Module:
    """The training variant of fgaesq-lite that views fine items on pair crops (train_reference=True)."""
    return fgaesq_lite(pretrained_backbone=pretrained_backbone, **{"train_reference": True, **overrides})


for _name in list_configs():
    register_vit(get_config(_name), overwrite=True)
