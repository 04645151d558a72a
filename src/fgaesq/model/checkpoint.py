"""Our checkpoint format: ``X.safetensors`` (weights) + ``X.json`` (model config and metadata) side by side."""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file

import fgaesq
from fgaesq.model.config import ConfigError, ModelConfig
from fgaesq.model.network import FGAesQ
from fgaesq.model.statedict import CheckpointError, LoadReport, _preview, read_weight_file

FORMAT = "fgaesq-checkpoint"
FORMAT_VERSION = 1


def checkpoint_paths(path: str | Path) -> tuple[Path, Path]:
    """(weights .safetensors, config .json) for a checkpoint named by either file or by its stem."""
    path = Path(path)
    name = path.name
    for suffix in (".safetensors", ".json"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return path.with_name(name + ".safetensors"), path.with_name(name + ".json")


def save_checkpoint(model: FGAesQ, path: str | Path, *, metadata: dict[str, Any] | None = None) -> Path:
    """Write `model` as X.safetensors + X.json (config incl. compat, metadata); returns the .safetensors path."""
    weights, cfg_path = checkpoint_paths(path)
    weights.parent.mkdir(parents=True, exist_ok=True)
    config = model.config.to_dict()
    config["compat"] = bool(model.compat)
    info = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "fgaesq_version": fgaesq.__version__,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "config": config,
        "metadata": metadata or {},
    }
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    save_file(tensors, str(weights), metadata={"format": "pt", FORMAT: json.dumps(config)})
    cfg_path.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return weights


def read_checkpoint_config(path: str | Path) -> tuple[ModelConfig, dict[str, Any], list[str]]:
    """The model config and metadata of our checkpoint (from X.json, else from the safetensors header)."""
    weights, cfg_path = checkpoint_paths(path)
    notes: list[str] = []
    if cfg_path.is_file():
        try:
            info = json.loads(cfg_path.read_text(encoding="utf-8"))
            cfg = ModelConfig.from_dict(info["config"])
        except (UnicodeDecodeError, KeyError, TypeError, ValueError, RecursionError, ConfigError) as e:
            raise CheckpointError(f"{cfg_path}: not an fgaesq checkpoint config ({e})") from e
        return cfg, info.get("metadata", {}), notes
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
    return ModelConfig.from_dict(json.loads(header)), {}, notes


def load_checkpoint(path: str | Path, *, device: str | torch.device = "cpu") -> FGAesQ:
    """Build and load a model from our checkpoint, strictly (every tensor present, none extra)."""
    weights, _ = checkpoint_paths(path)
    cfg, metadata, notes = read_checkpoint_config(weights)
    model = FGAesQ(cfg)
    sd = read_weight_file(weights)
    target = model.state_dict()
    missing = [k for k in target if k not in sd]
    unexpected = [k for k in sd if k not in target]
    if missing or unexpected:
        raise CheckpointError(
            f"{weights}: does not match its config {cfg.name}: missing {_preview(missing, 8) or 'none'}; "
            f"unexpected {_preview(unexpected, 8) or 'none'}"
        )
    bad = [k for k in target if sd[k].shape != target[k].shape]
    if bad:
        raise CheckpointError(f"{weights}: tensor shapes differ from config {cfg.name}: {_preview(bad, 6)}")
    model.load_state_dict(sd, strict=True)
    model.to(device)
    model.eval()
    report = LoadReport(source=f"local file {weights}", layout="fgaesq", loaded=len(sd), expected=len(target),
                        notes=notes)
    model.load_report = report
    model.checkpoint_metadata = metadata
    model.source = f"{cfg.name} (fgaesq checkpoint, local file {weights})"
    return model
