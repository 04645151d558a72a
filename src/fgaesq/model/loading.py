"""`load_model(spec)`: any registered model's weights by source (registry name, path, local-dir:, hf-hub:)."""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from torch import nn

from fgaesq.model.authors import load_authors_model
from fgaesq.model.checkpoint import checkpoint_paths, load_checkpoint
from fgaesq.model.hub import cache_only_when_unreachable
from fgaesq.model.registry import get_pretrained_cfg, list_models
from fgaesq.model.statedict import CheckpointError
from fgaesq.paths import PACKAGE_DIR

log = logging.getLogger("fgaesq.model")

AUTHORS_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt")
WEIGHTS_DIR = PACKAGE_DIR / "weights"


def _load_file(path: Path, *, strict: bool) -> nn.Module:
    if path.name.endswith((".safetensors", ".json")):
        return load_checkpoint(path)
    return load_authors_model(path, strict=strict)


def _load_dir(folder: Path, *, strict: bool) -> nn.Module:
    if not folder.is_dir():
        raise CheckpointError(f"{folder}: no such folder")
    ours = sorted(p for p in folder.glob("*.safetensors") if checkpoint_paths(p)[1].is_file())
    if len(ours) == 1:
        return load_checkpoint(ours[0])
    theirs = sorted(p for p in folder.iterdir() if p.suffix in AUTHORS_SUFFIXES and p.is_file())
    if not ours and len(theirs) == 1:
        return load_authors_model(theirs[0], strict=strict)
    found = sorted(p.name for p in folder.iterdir())[:12]
    raise CheckpointError(
        f"{folder}: expected exactly one fgaesq checkpoint (X.safetensors + X.json) or one authors' checkpoint "
        f"({'/'.join(AUTHORS_SUFFIXES)}); found {found or 'nothing'}; name the file instead"
    )


def resolve_hf_hub(spec: str, *, cache_dir: str | Path | None = None) -> Path:
    """Local path (file or snapshot folder) for `ORG/REPO[/FILE]` via huggingface_hub's cache (download if online)."""
    from huggingface_hub import hf_hub_download, snapshot_download

    parts = [p for p in spec.strip("/").split("/") if p]
    if len(parts) < 2:
        raise CheckpointError(f"hf-hub:{spec}: expected hf-hub:ORG/REPO or hf-hub:ORG/REPO/FILE")
    repo, filename = "/".join(parts[:2]), "/".join(parts[2:])
    cache = str(cache_dir) if cache_dir else None
    patterns = ["*.safetensors", "*.json", *(f"*{s}" for s in AUTHORS_SUFFIXES)]
    with cache_only_when_unreachable() as online:
        try:
            if not filename:
                return Path(snapshot_download(repo, cache_dir=cache, allow_patterns=patterns))
            path = Path(hf_hub_download(repo, filename, cache_dir=cache))
        except Exception as e:  # offline / not found / connection errors come in several types
            reason = str(e).splitlines()[0] if str(e) else ""
            reason = reason if len(reason) <= 200 else reason[:200] + "..."
            where = "" if online else "the hub cannot be reached and it is not in the local cache; "
            raise CheckpointError(
                f"hf-hub:{spec}: not available ({where}{type(e).__name__}: {reason}). Files already in the Hugging "
                "Face cache work offline (HF_HUB_OFFLINE=1); otherwise download them once while online, or pass a "
                "local path"
            ) from e
        if filename.endswith(".safetensors"):
            try:
                hf_hub_download(repo, checkpoint_paths(filename)[1].as_posix(), cache_dir=cache)
            except Exception:  # the config json is optional: the safetensors header carries a copy
                log.debug("hf-hub:%s: no config json beside the weights", spec)
    return path


def load_model(
    spec: str | Path,
    *,
    device: str | torch.device = "cpu",
    compat: bool | None = None,
    strict: bool = True,
    cache_dir: str | Path | None = None,
) -> nn.Module:
    """Load a model from a registry name, a file, `local-dir:PATH` or `hf-hub:ORG/REPO[/FILE]`, in eval mode.

    The source used is in `model.source` (also logged) and the key check in `model.load_report`.
    """
    spec_s = str(spec)
    if spec_s.startswith("hf-hub:"):
        model = _load_path(resolve_hf_hub(spec_s[len("hf-hub:") :], cache_dir=cache_dir), strict=strict)
        model.source = f"{model.source} via {spec_s}"
    elif spec_s.startswith("local-dir:"):
        model = _load_dir(Path(spec_s[len("local-dir:") :]).expanduser(), strict=strict)
    elif spec_s in list_models():
        model = _load_registered(spec_s, strict=strict, cache_dir=cache_dir)
    else:
        path = Path(spec_s).expanduser()
        if not path.exists():
            raise CheckpointError(
                f"{spec_s}: neither a registered model ({', '.join(list_models())}) nor an existing file or folder; "
                "use a path, local-dir:PATH or hf-hub:ORG/REPO[/FILE]"
            )
        model = _load_path(path, strict=strict)
    if compat is not None and hasattr(model, "compat"):
        model.compat = compat
    model.to(device).eval()
    log.info("fgaesq: loaded %s (compat=%s)", model.source, getattr(model, "compat", None))
    return model


def _load_path(path: Path, *, strict: bool) -> nn.Module:
    return _load_dir(path, strict=strict) if path.is_dir() else _load_file(path, strict=strict)


def _load_registered(name: str, *, strict: bool, cache_dir: str | Path | None) -> nn.Module:
    """The released weights of registered model `name` (shipped in the package, or on the Hugging Face Hub)."""
    source = get_pretrained_cfg(name).weights
    if not source:
        raise CheckpointError(
            f"{name}: no released weights for this model; create_model({name!r}) gives a new one, or pass a "
            "checkpoint path"
        )
    if source.startswith("package:"):
        path = WEIGHTS_DIR / source[len("package:") :]
        if not path.is_file():
            raise CheckpointError(f"{name}: its shipped weights are missing ({path}); reinstall fgaesq")
        model = _load_path(path, strict=strict)
        model.source = f"{name} (weights shipped with fgaesq)"
        return model
    if source.startswith("hf-hub:"):
        model = _load_path(resolve_hf_hub(source[len("hf-hub:") :], cache_dir=cache_dir), strict=strict)
        model.source = f"{model.source} via registry name {name} ({source})"
        return model
    raise CheckpointError(f"{name}: weights source {source!r} is not supported (use package: or hf-hub:)")
