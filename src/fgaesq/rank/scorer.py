"""The Scorer protocol shared by the CLI, evaluation and the starter model, and its FGAesQ (ViT) implementation."""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import lru_cache
from typing import Protocol, runtime_checkable

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from fgaesq.io import DEFAULT_MAX_SIZE, load_image
from fgaesq.rank.device import autocast, autocast_dtype, pick_device

ImageRef = str | os.PathLike | Image.Image


@runtime_checkable
class Scorer(Protocol):
    """Anything that scores images alone, in DiffToken pairs, and embeds them for similarity grouping."""

    name: str

    def score(self, images: Sequence[ImageRef]) -> np.ndarray:
        """Single-mode scores in [1, 10], shape (n,)."""
        ...

    def score_pairs(self, pairs: Sequence[tuple[ImageRef, ImageRef, str]]) -> np.ndarray:
        """Scores of both images of each (a, b, pair_id), each tokenized against the other, shape (n, 2)."""
        ...

    def embed(self, images: Sequence[ImageRef]) -> np.ndarray:
        """Feature vectors for similarity, shape (n, E)."""
        ...


@lru_cache(maxsize=8)
def _load_path(path: str, mtime_ns: int, max_size: int | None) -> Image.Image:
    return load_image(path, max_size)


def _load(ref: ImageRef, max_size: int | None) -> Image.Image:
    """Decode an image; paths are cached per process, as a series' pairs reuse each image n - 1 times in a row."""
    if isinstance(ref, Image.Image):
        return load_image(ref, max_size)
    path = os.fspath(ref)
    try:
        mtime_ns = os.stat(path).st_mtime_ns
    except OSError:
        return load_image(path, max_size)  # load_image names the problem
    return _load_path(path, mtime_ns, max_size)


class _Singles(Dataset):
    """Decode + single-mode tokenize, run inside DataLoader workers."""

    def __init__(self, images: Sequence[ImageRef], tokenizer, max_size: int | None) -> None:
        self.images, self.tokenizer, self.max_size = list(images), tokenizer, max_size

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        return [self.tokenizer.single(load_image(self.images[i], self.max_size))]


class _Pairs(Dataset):
    """Decode both images + pair-mode tokenize with the pair id, run inside DataLoader workers."""

    def __init__(self, pairs: Sequence[tuple[ImageRef, ImageRef, str]], tokenizer, max_size: int | None) -> None:
        self.pairs, self.tokenizer, self.max_size = list(pairs), tokenizer, max_size

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, i: int):
        a, b, pair_id = self.pairs[i]
        ta, tb = self.tokenizer.pair(_load(a, self.max_size), _load(b, self.max_size), pair_id=pair_id)
        return [ta, tb]


def _collate(items):
    from fgaesq.tokenize import collate_tokens

    return collate_tokens([t for group in items for t in group])


class FGAesQScorer:
    """Scores with an FGAesQ model: DiffToken in DataLoader workers, batched forwards, autocast on GPUs."""

    def __init__(
        self,
        model,
        *,
        name: str | None = None,
        device: str = "auto",
        batch_size: int = 16,
        workers: int = 0,
        max_size: int | None = DEFAULT_MAX_SIZE,
        precision: str = "auto",
    ) -> None:
        from fgaesq.tokenize import DiffTokenizer

        self.device = pick_device(device)
        self.dtype = autocast_dtype(self.device, precision)
        self.model = model.eval().to(self.device)
        self.name = name or getattr(getattr(model, "config", None), "name", None) or type(model).__name__
        self.batch_size = max(1, int(batch_size))
        self.workers = max(0, int(workers))
        self.max_size = max_size
        pos = model.pos_source.detach().float().cpu()
        self.tokenizer = DiffTokenizer(pos, compat=bool(getattr(model, "compat", True)), hash_pixels=False)
        self.forward_passes = 0  # token sequences sent through the network

    def _loader(self, dataset: Dataset, per_item: int) -> DataLoader:
        bs = max(1, self.batch_size // per_item)
        return DataLoader(
            dataset,
            batch_size=bs,
            shuffle=False,
            num_workers=self.workers,
            collate_fn=_collate,
            pin_memory=False,  # TokenBatch is moved whole by .to(); pinning would not apply to it
            persistent_workers=False,
        )

    @torch.inference_mode()
    def _run(self, loader: DataLoader, field: str) -> np.ndarray:
        outs = []
        for batch in loader:
            batch = batch.to(self.device)
            with autocast(self.device, self.dtype):
                out = self.model(batch)
            value = getattr(out, field)
            outs.append(value.float().cpu().numpy())
            self.forward_passes += len(value)
        if not outs:
            return np.zeros((0,), dtype=np.float32)
        return np.concatenate(outs)

    def score(self, images: Sequence[ImageRef]) -> np.ndarray:
        """Single-mode scores in [1, 10], shape (n,)."""
        return self._run(self._loader(_Singles(images, self.tokenizer, self.max_size), 1), "score").reshape(-1)

    def score_pairs(self, pairs: Sequence[tuple[ImageRef, ImageRef, str]]) -> np.ndarray:
        """Scores of both images of each pair, each tokenized against the other, shape (n, 2)."""
        scores = self._run(self._loader(_Pairs(pairs, self.tokenizer, self.max_size), 2), "score")
        return scores.reshape(-1, 2)

    def embed(self, images: Sequence[ImageRef]) -> np.ndarray:
        """Single-mode features (the 512-d projection for ViT-B/16), shape (n, E)."""
        feats = self._run(self._loader(_Singles(images, self.tokenizer, self.max_size), 1), "features")
        return feats.reshape(len(images), -1) if len(images) else feats.reshape(0, 0)
