"""Which model scores: `--weights PATH|NAME`, the Hugging Face cache, or the embedded starter model."""

from __future__ import annotations

import inspect
from pathlib import Path

from fgaesq.io import DEFAULT_MAX_SIZE
from fgaesq.rank.device import pick_device
from fgaesq.rank.scorer import FGAesQScorer, Scorer

DEFAULT_HUB_MODEL = "fgaesq-vit-b-16"
LITE_NAME = "fgaesq-lite"
HOW_TO_GET_WEIGHTS = (
    "no model weights: pass --weights PATH (the authors' checkpoint from https://huggingface.co/yzc002/FGAesQ, "
    "or a fgaesq .safetensors file) or --weights fgaesq-vit-b-16 to download it once into the Hugging Face cache; "
    "the offline starter model fgaesq-lite is not installed in this copy of fgaesq"
)


class WeightsError(Exception):
    """No usable model: the message says how to get one."""


def _lite_scorer(**kw) -> Scorer | None:
    """The embedded starter model, when this installation ships it."""
    try:
        from fgaesq.model.lite import load_default_scorer
    except ImportError:
        return None
    params = inspect.signature(load_default_scorer).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    return load_default_scorer(**{k: v for k, v in kw.items() if takes_any or k in params})


def _cached_default() -> str | None:
    """Local snapshot of the default hub model if it is already in the Hugging Face cache (never downloads)."""
    try:
        from huggingface_hub import snapshot_download

        from fgaesq.model import get_config

        hub = ((get_config(DEFAULT_HUB_MODEL).pretrained or {}).get("hf_hub")) or ""
        if not hub:
            return None
        path = snapshot_download(hub, local_files_only=True)
    except Exception:  # noqa: BLE001 - not cached, no model package, anything: fall through
        return None
    return path if any(Path(path).iterdir()) else None


def _model_scorer(spec: str, name_hint: str, **kw) -> Scorer:
    from fgaesq.model import load_model

    try:
        model = load_model(spec)
    except Exception as e:  # CheckpointError, ConfigError, OSError ... all become one clear line
        raise WeightsError(f"--weights {name_hint}: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from e
    label = getattr(getattr(model, "config", None), "name", None) or "fgaesq"
    source = getattr(model, "source", None)
    return FGAesQScorer(model, name=source or f"{label} ({spec})", **kw)


def resolve_scorer(
    weights: str | None,
    device: str = "auto",
    *,
    batch_size: int = 16,
    workers: int = 0,
    max_size: int | None = DEFAULT_MAX_SIZE,
) -> Scorer:
    """The scorer for `--weights` (path, registry name, hf-hub:ORG/REPO, local-dir:PATH, fgaesq-lite) or the default.

    With no weights: the default hub model if it is already cached, else the embedded fgaesq-lite; raises
    WeightsError with instructions when neither exists.
    """
    kw = {"device": device, "batch_size": batch_size, "workers": workers, "max_size": max_size}
    if weights == LITE_NAME or weights is None:
        if weights is None:
            cached = _cached_default()
            if cached is not None:
                return _model_scorer(cached, DEFAULT_HUB_MODEL, **kw)
        lite = _lite_scorer(**{**kw, "device": str(pick_device(device))})
        if lite is None:
            raise WeightsError(HOW_TO_GET_WEIGHTS)
        return lite
    path = Path(weights).expanduser()
    spec = f"local-dir:{path}" if path.is_dir() else str(path) if path.exists() else weights
    return _model_scorer(spec, weights, **kw)
