"""OpenAI CLIP ViT-B/16 image weights as a training start: through open_clip when online, or from a local file."""

from __future__ import annotations

from pathlib import Path

import torch

from fgaesq.model.hub import cache_only_when_unreachable
from fgaesq.model.network import FGAesQ
from fgaesq.model.statedict import CheckpointError, LoadReport, _preview, read_weight_file, unwrap_state_dict

_PREFIXES = ("visual.", "clip_model.visual.", "")
_HOW = (
    "Either connect to the internet once so open_clip downloads pretrained='openai' (ViT-B-16) into the Hugging "
    "Face cache, or pass a local file: load_openai_visual(model, 'PATH') with an OpenAI CLIP state dict "
    "(visual.* keys), an open_clip checkpoint (.pt/.bin) or a .safetensors file such as open_clip_model.safetensors"
)


class OpenAIWeightsError(CheckpointError):
    """OpenAI CLIP weights could not be obtained or do not fit the model."""


def download_openai_weights(cache_dir: str | Path | None = None) -> Path:
    """Path of open_clip's cached OpenAI ViT-B/16 weights, downloading them if needed (needs the network once)."""
    from open_clip.pretrained import download_pretrained, get_pretrained_cfg

    cfg = get_pretrained_cfg("ViT-B-16", "openai")
    with cache_only_when_unreachable() as online:
        try:
            target = download_pretrained(cfg, cache_dir=str(cache_dir) if cache_dir else None)
        except Exception as e:  # huggingface_hub raises offline/connection/not-found errors of several types
            reason = str(e).splitlines()[0] if str(e) else type(e).__name__
            reason = reason if len(reason) <= 200 else reason[:200] + "..."
            where = "" if online else "no network and not in the Hugging Face cache; "
            raise OpenAIWeightsError(f"OpenAI CLIP ViT-B/16 weights could not be fetched ({where}{reason}). {_HOW}") from e
    if not target:
        raise OpenAIWeightsError(f"open_clip knows no pretrained='openai' entry for ViT-B-16. {_HOW}")
    return Path(target)


def openai_visual_state_dict(path: str | Path, notes: list[str] | None = None) -> dict[str, torch.Tensor]:
    """The image-tower tensors (OpenAI names, no prefix) found in a local weight file."""
    notes = [] if notes is None else notes
    try:
        sd = unwrap_state_dict(read_weight_file(path), str(path), notes)
    except CheckpointError as e:
        raise OpenAIWeightsError(f"{e}. {_HOW}") from e
    prefix = next((p for p in _PREFIXES if p + "conv1.weight" in sd), None)
    if prefix is None:
        raise OpenAIWeightsError(
            f"{path}: no CLIP image tower in it (looked for visual.conv1.weight or conv1.weight); "
            f"its keys look like {_preview(sorted(sd), 5)}"
        )
    if prefix:
        notes.append(f"took the {prefix!r} tensors, ignored {sum(1 for k in sd if not k.startswith(prefix))} others")
    return {k[len(prefix) :]: v for k, v in sd.items() if k.startswith(prefix)}


def load_openai_visual(
    model: FGAesQ, source: str | Path | None = None, *, cache_dir: str | Path | None = None
) -> LoadReport:
    """Copy OpenAI CLIP image-tower weights into `model.visual` (head, scale and mask stay as initialised)."""
    notes: list[str] = []
    if source is None:
        path = download_openai_weights(cache_dir)
        label = f"open_clip pretrained='openai' ({path})"
    else:
        path = Path(source)
        label = f"local file {path}"
    visual = openai_visual_state_dict(path, notes)
    target = model.visual.state_dict()
    missing = [k for k in target if k not in visual]
    if missing:
        raise OpenAIWeightsError(f"{label}: {len(missing)} image-tower tensors missing: {_preview(missing, 10)}")
    bad = [f"{k} {tuple(visual[k].shape)} vs {tuple(target[k].shape)}" for k in target if visual[k].shape != target[k].shape]
    if bad:
        raise OpenAIWeightsError(
            f"{label}: the weights do not fit model {model.config.name} (width {model.config.width}, "
            f"{model.config.layers} layers): {_preview(bad, 4)}; OpenAI weights need fgaesq-vit-b-16"
        )
    extra = [k for k in visual if k not in target]
    if extra:
        notes.append(f"ignored {len(extra)} image-tower tensors the model does not have: {_preview(extra, 4)}")
    with torch.no_grad():
        model.visual.load_state_dict({k: visual[k] for k in target}, strict=True)
    model.source = f"{model.config.name} (OpenAI CLIP image tower from {label}; head initialised)"
    report = LoadReport(source=label, layout="openai-clip", loaded=len(target), expected=len(target), notes=notes)
    model.load_report = report
    return report
