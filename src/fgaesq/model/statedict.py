"""Reading weight files safely (safetensors, or torch.load with weights_only=True) and unwrapping them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

WRAPPER_KEYS = ("state_dict", "model", "module", "model_state_dict", "net", "weights")
STRIP_PREFIXES = ("module.", "_orig_mod.", "model.")


class CheckpointError(ValueError):
    """A weight file that cannot be used: unreadable, foreign, incomplete or inconsistent."""


@dataclass
class LoadReport:
    """What a loader did: where the weights came from, how many tensors it set, and what it noticed."""

    source: str
    layout: str
    loaded: int = 0
    expected: int = 0
    notes: list[str] = field(default_factory=list)
    ignored: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for logs and the CLI."""
        parts = [f"{self.source}: {self.layout} layout, {self.loaded}/{self.expected} tensors loaded"]
        parts += [f"{n} {what} ignored" for what, n in self.ignored.items() if n]
        parts += self.notes
        return "; ".join(parts)


def _preview(keys: list[str], n: int = 8) -> str:
    shown = ", ".join(repr(k) for k in keys[:n])
    return shown + (f", ... ({len(keys)} in all)" if len(keys) > n else "")


def read_weight_file(path: str | Path) -> Any:
    """Deserialize a weight file without running pickled code: safetensors, else torch.load(weights_only=True)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such file")
    if path.suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return load_file(str(path), device="cpu")
        except (SafetensorError, OSError, ValueError) as e:
            raise CheckpointError(f"{path}: not a readable safetensors file ({e})") from e
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path}: empty file; expected a PyTorch state dict")
    try:
        return torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises UnpicklingError/RuntimeError/EOFError for foreign files
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        if "Weights only load failed" in str(e):
            raise CheckpointError(
                f"{path}: refused: the file holds pickled Python objects other than tensors, which are never "
                "unpickled (torch.load weights_only=True); save a plain dict of tensors (state_dict) instead"
            ) from e
        raise CheckpointError(
            f"{path}: not a PyTorch checkpoint ({type(e).__name__}: {msg}); expected a state dict saved with "
            "torch.save or a .safetensors file"
        ) from e


def unwrap_state_dict(obj: Any, source: str, notes: list[str]) -> dict[str, torch.Tensor]:
    """A flat {name: tensor} dict from `obj`, unwrapping {'state_dict': ...}/{'model': ...} and 'module.' prefixes."""
    depth = 0
    while isinstance(obj, Mapping) and depth < 4:
        if obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
            break
        inner = next((k for k in WRAPPER_KEYS if isinstance(obj.get(k), Mapping)), None)
        if inner is None:
            bad = [k for k, v in obj.items() if not isinstance(v, torch.Tensor)]
            if not obj:
                raise CheckpointError(f"{source}: empty dict; expected a state dict of tensors")
            raise CheckpointError(
                f"{source}: not a plain state dict: entries {_preview([str(k) for k in bad], 5)} are not "
                f"tensors and none of {list(WRAPPER_KEYS)} holds the weights"
            )
        notes.append(f"unwrapped the {inner!r} entry of a wrapper dict")
        obj = obj[inner]
        depth += 1
    if not isinstance(obj, Mapping):
        raise CheckpointError(
            f"{source}: holds a {type(obj).__name__}, not a state dict (a dict of tensor names to tensors)"
        )
    sd = {str(k): v for k, v in obj.items()}
    stripped = True
    while stripped and sd:
        stripped = False
        for prefix in STRIP_PREFIXES:
            if all(k.startswith(prefix) for k in sd):
                sd = {k[len(prefix) :]: v for k, v in sd.items()}
                notes.append(f"removed the {prefix!r} prefix from every key")
                stripped = True
    return sd
