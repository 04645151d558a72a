"""ONNX Runtime as the forward of a DiffToken scorer (CPU): export once into a cache, then run sessions."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import torch

INPUTS = ("patches", "pos", "scale", "pad")


def cache_dir() -> Path:
    """Where exported graphs are kept: $FGAESQ_CACHE or ~/.cache/fgaesq, sub-folder onnx."""
    root = os.environ.get("FGAESQ_CACHE") or Path.home() / ".cache" / "fgaesq"
    return Path(root) / "onnx"


def model_digest(model: torch.nn.Module) -> str:
    """A short digest of the weights, the config name and compat: the cache key of an export."""
    h = hashlib.sha256()
    h.update(repr((getattr(getattr(model, "config", None), "name", type(model).__name__),
                   bool(getattr(model, "compat", False)))).encode())
    for name, t in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().to("cpu").contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def exported_path(model: torch.nn.Module, int8: bool = False) -> Path:
    """The cached ONNX graph of `model` (exported on first use)."""
    from fgaesq.model.onnx_export import export_onnx

    name = getattr(getattr(model, "config", None), "name", "model")
    path = cache_dir() / f"{name}-{model_digest(model)}{'-int8' if int8 else ''}.onnx"
    if not path.is_file():
        tmp = path.with_name(path.stem + f".tmp{os.getpid()}.onnx")
        export_onnx(model, tmp, int8=int8)
        tmp.replace(path)
    return path


def session(path: str | Path, threads: int):
    """An ONNX Runtime CPU session with `threads` intra-op threads and full graph optimisation."""
    try:
        import onnxruntime as ort
    except ImportError as e:
        raise ImportError("--backend onnx needs onnxruntime: pip install 'fgaesq[onnx]'") from e
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = max(1, int(threads))
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def onnx_forward(model: torch.nn.Module, path: str | Path | None, *, int8: bool = False, threads: int = 1):
    """forward(TokenBatch) -> {"score", "features"} through ONNX Runtime; path None = the cached export."""
    sess = session(path or exported_path(model, int8=int8), threads)

    def forward(batch) -> dict[str, np.ndarray]:
        feed = {
            "patches": batch.patches.numpy().astype(np.float32, copy=False),
            "pos": batch.pos.numpy().astype(np.float32, copy=False),
            "scale": batch.scale.numpy().astype(np.int64, copy=False),
            "pad": batch.pad.numpy().astype(np.bool_, copy=False),
        }
        score, features = sess.run(["score", "features"], feed)
        return {"score": score, "features": features}

    return forward
