"""The scorer of DiffToken models (the ViT family): tokenization in DataLoader workers, batched forwards."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from fgaesq.model.registry import Preprocess, make_tokenizer, preprocess_of
from fgaesq.scoring.batching import Item, group_pairs, run_items, torch_forward
from fgaesq.scoring.device import autocast_dtype, pick_device
from fgaesq.scoring.protocol import ImageRef
from fgaesq.scoring.threads import plan_threads, torch_threads

BACKENDS = ("torch", "onnx")


class FGAesQScorer:
    """Scores with an FGAesQ model: DiffToken in DataLoader workers, batched forwards, autocast on GPUs.

    `max_size` None decodes as the model's checkpoint says (`preprocess`); 0 turns the long-side limit off.
    `workers` None (or -1) = auto: single-threaded tokenizing workers and forward threads split over the
    available cores (`fgaesq.scoring.threads`). `backend` 'onnx' runs the forward in ONNX Runtime (CPU):
    `onnx_path` names an exported model, else the model is exported once into the cache. `precision` 'auto'
    autocasts on GPUs only; 'bf16' on the CPU is an opt-in (about 2.8x faster forwards on a CPU with AMX).
    """

    def __init__(
        self,
        model,
        *,
        name: str | None = None,
        device: str = "auto",
        batch_size: int = 16,
        workers: int | None = None,
        max_size: int | None = None,
        precision: str = "auto",
        backend: str = "torch",
        onnx_path: str | Path | None = None,
        int8: bool = False,
    ) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"--backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
        self.device = pick_device(device)
        if backend == "onnx":
            if precision not in ("auto", "fp32"):
                raise ValueError(f"--precision {precision} applies to the torch backend; ONNX Runtime runs fp32 "
                                 "(or --int8)")
            self.device = torch.device("cpu")
        self.dtype = autocast_dtype(self.device, precision)
        self.model = model.eval().to(self.device)
        self.name = name or getattr(getattr(model, "config", None), "name", None) or type(model).__name__
        self.batch_size = max(1, int(batch_size))
        self.workers, self.forward_threads = plan_threads(self.model, workers, self.device)
        pre = preprocess_of(model)
        if max_size is not None:
            pre = Preprocess(max_size=max_size or None, draft=pre.draft)
        self.preprocess = pre
        self.tokenizer = make_tokenizer(model)
        self.tokenizer.hash_pixels = False  # provenance hashing is for tests and training, not scoring
        self.backend = backend
        if backend == "onnx":
            from fgaesq.scoring.onnx_backend import onnx_forward

            self._forward = onnx_forward(self.model, onnx_path, int8=int8, threads=self.forward_threads)
            self.name += " [onnx int8]" if int8 else " [onnx]"
        else:
            self._forward = torch_forward(self.model, self.device, self.dtype)
        self.forward_passes = 0  # token sequences sent through the network

    def _run(self, items: Sequence[Item]) -> list[dict[str, np.ndarray]]:
        bucket = not bool(getattr(self.model, "compat", True)) and self.backend == "torch"
        with torch_threads(self.forward_threads):
            out = run_items(items, self.tokenizer, self.preprocess, self._forward, batch_size=self.batch_size,
                            workers=self.workers, bucket=bucket, pin_memory=self.device.type == "cuda")
        self.forward_passes += sum(len(o.get("score", ())) for o in out)
        return out

    def score(self, images: Sequence[ImageRef]) -> np.ndarray:
        """Single-mode scores in [1, 10], shape (n,)."""
        out = self._run([("single", im) for im in images])
        return np.array([o["score"][0] for o in out], dtype=np.float64)

    def score_pairs(self, pairs: Sequence[tuple[ImageRef, ImageRef, str]]) -> np.ndarray:
        """Scores of both images of each pair, each tokenized against the other, shape (n, 2)."""
        out = self._run(group_pairs(pairs))
        if not out:
            return np.zeros((0, 2))
        return np.concatenate([o["score"] for o in out]).astype(np.float64).reshape(-1, 2)

    def score_series(self, series: Sequence[tuple[Sequence[ImageRef], str]], *, with_features: bool = False) -> list:
        """Series mode: each image tokenized once against its whole series; one (n_i,) score array per series
        (with_features: (scores, (n_i, E) features) per series, from the same forwards)."""
        out = self._run([("series", (list(refs), sid)) for refs, sid in series])
        scores = [o["score"].astype(np.float64) if o else np.zeros(0) for o in out]
        if with_features:
            return [(s, o["features"]) for s, o in zip(scores, out, strict=True)]
        return scores

    def embed(self, images: Sequence[ImageRef]) -> np.ndarray:
        """Single-mode features (the 512-d projection for ViT-B/16), shape (n, E)."""
        out = self._run([("single", im) for im in images])
        if not out:
            return np.zeros((0, 0), dtype=np.float32)
        return np.concatenate([o["features"] for o in out]).reshape(len(images), -1)
