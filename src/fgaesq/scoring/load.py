"""`load_scorer(spec)`: the one way every command and app gets a model to score with."""

from __future__ import annotations

from pathlib import Path

from torch import nn

from fgaesq.scoring.device import pick_device
from fgaesq.scoring.protocol import Scorer

DEFAULT_HUB_MODEL = "fgaesq-vit-b-16"
STARTER_MODEL = "fgaesq-lite"


class ScorerError(Exception):
    """No usable model for a spec: the one-line message names the spec and how to fix it."""


def weights_message(spec: str | Path | None, error: BaseException) -> str:
    """The CLI line for a ScorerError: `--weights SPEC: why`, naming the spec once."""
    message = str(error)
    if not spec:
        return message
    spec = str(spec)
    return f"--weights {message}" if message.startswith(spec) else f"--weights {spec}: {message}"


def cached_default() -> str | None:
    """Local snapshot of the default hub model if it is already in the Hugging Face cache (never downloads)."""
    try:
        from huggingface_hub import snapshot_download

        from fgaesq.model import get_pretrained_cfg

        source = get_pretrained_cfg(DEFAULT_HUB_MODEL).weights or ""
        if not source.startswith("hf-hub:"):
            return None
        path = snapshot_download(source[len("hf-hub:") :], local_files_only=True)
    except Exception:  # noqa: BLE001 - not cached, offline, anything: fall through to the starter model
        return None
    return path if any(Path(path).iterdir()) else None


def scorer_for(
    model: nn.Module,
    *,
    name: str | None = None,
    device: str = "auto",
    batch_size: int = 16,
    workers: int | None = None,
    max_size: int | None = None,
    precision: str = "auto",
    backend: str = "torch",
    int8: bool = False,
) -> Scorer:
    """The Scorer of a loaded model of any family (fgaesq-lite -> LiteScorer, DiffToken models -> FGAesQScorer)."""
    from fgaesq.model.lite import FGAesQLite
    from fgaesq.scoring.memory import retain_freed_memory

    retain_freed_memory()  # no page faults per photo (docs/performance.md); FGAESQ_KEEP_MEMORY=0 turns it off

    if isinstance(model, FGAesQLite):
        from fgaesq.scoring.lite import LiteScorer

        if precision not in ("auto", "fp32"):
            raise ValueError(f"--precision {precision}: fgaesq-lite runs in float32; the option is for DiffToken "
                             "(ViT) models")
        return LiteScorer(model, name, device=device, batch_size=batch_size, backend=backend, int8=int8)
    from fgaesq.scoring.vit import FGAesQScorer

    return FGAesQScorer(model, name=name, device=device, batch_size=batch_size, workers=workers, max_size=max_size,
                        precision=precision, backend=backend, int8=int8)


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def load_scorer(
    spec: str | Path | None = None,
    *,
    device: str = "auto",
    batch_size: int = 16,
    workers: int | None = None,
    max_size: int | None = None,
    precision: str = "auto",
    cache_dir: str | Path | None = None,
    backend: str = "torch",
    int8: bool = False,
) -> Scorer:
    """A Scorer for `spec`: registry name, checkpoint file or folder, `local-dir:PATH` or `hf-hub:ORG/REPO[/FILE]`.

    None = the default hub model (fgaesq-vit-b-16) if it is already in the Hugging Face cache, else the shipped
    fgaesq-lite; `scorer.name` says which. `backend` 'onnx' runs the network in ONNX Runtime (int8: quantized). `max_size` None decodes as the model's checkpoint says; 0 = no limit
    (fgaesq-lite always works at its own size). Raises ScorerError with a one-line message.
    """
    from fgaesq.model import load_model

    try:
        pick_device(device)
    except ValueError as e:
        raise ScorerError(str(e)) from None
    note = ""
    if spec is None:
        cached = cached_default()
        if cached is not None:
            spec, label = f"local-dir:{cached}", DEFAULT_HUB_MODEL
            note = " (default model, from the Hugging Face cache)"
        else:
            spec, label = STARTER_MODEL, STARTER_MODEL
            note = f" (default: {DEFAULT_HUB_MODEL} is not in the Hugging Face cache)"
    else:
        label = str(spec)
        path = Path(spec).expanduser()
        if path.is_dir():
            spec = f"local-dir:{path}"
    try:
        model = load_model(spec, device="cpu", cache_dir=cache_dir)
    except Exception as e:  # CheckpointError, ConfigError, OSError ... all become one clear line
        line = _first_line(e)
        raise ScorerError(line if label in line else f"{label}: {line}") from e
    name = (getattr(model, "source", None) or label) + note
    try:
        return scorer_for(model, name=name, device=device, batch_size=batch_size, workers=workers,
                          max_size=max_size, precision=precision, backend=backend, int8=int8)
    except (ImportError, ValueError) as e:
        raise ScorerError(f"{label}: {_first_line(e)}") from e
