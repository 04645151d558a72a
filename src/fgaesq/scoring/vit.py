"""The scorer of DiffToken models (the ViT family): tokenization in DataLoader workers, batched forwards."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from fgaesq.model.registry import Preprocess, make_tokenizer, preprocess_of
from fgaesq.scoring.device import autocast, autocast_dtype, pick_device
from fgaesq.scoring.images import decode, decode_cached
from fgaesq.scoring.protocol import ImageRef


class _Singles(Dataset):
    """Decode + single-mode tokenize, run inside DataLoader workers."""

    def __init__(self, images: Sequence[ImageRef], tokenizer, pre: Preprocess) -> None:
        self.images, self.tokenizer, self.pre = list(images), tokenizer, pre

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        return [self.tokenizer.single(decode(self.images[i], self.pre))]


class _Pairs(Dataset):
    """Decode both images + pair-mode tokenize with the pair id, run inside DataLoader workers."""

    def __init__(self, pairs: Sequence[tuple[ImageRef, ImageRef, str]], tokenizer, pre: Preprocess) -> None:
        self.pairs, self.tokenizer, self.pre = list(pairs), tokenizer, pre

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, i: int):
        a, b, pair_id = self.pairs[i]
        ta, tb = self.tokenizer.pair(decode_cached(a, self.pre), decode_cached(b, self.pre), pair_id=pair_id)
        return [ta, tb]


def _collate(items):
    from fgaesq.tokenize import collate_tokens

    return collate_tokens([t for group in items for t in group])


class FGAesQScorer:
    """Scores with an FGAesQ model: DiffToken in DataLoader workers, batched forwards, autocast on GPUs.

    `max_size` None decodes as the model's checkpoint says (`preprocess`); 0 turns the long-side limit off.
    """

    def __init__(
        self,
        model,
        *,
        name: str | None = None,
        device: str = "auto",
        batch_size: int = 16,
        workers: int = 0,
        max_size: int | None = None,
        precision: str = "auto",
    ) -> None:
        self.device = pick_device(device)
        self.dtype = autocast_dtype(self.device, precision)
        self.model = model.eval().to(self.device)
        self.name = name or getattr(getattr(model, "config", None), "name", None) or type(model).__name__
        self.batch_size = max(1, int(batch_size))
        self.workers = max(0, int(workers))
        pre = preprocess_of(model)
        if max_size is not None:
            pre = Preprocess(max_size=max_size or None, draft=pre.draft)
        self.preprocess = pre
        self.tokenizer = make_tokenizer(model)
        self.tokenizer.hash_pixels = False  # provenance hashing is for tests and training, not scoring
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
        return self._run(self._loader(_Singles(images, self.tokenizer, self.preprocess), 1), "score").reshape(-1)

    def score_pairs(self, pairs: Sequence[tuple[ImageRef, ImageRef, str]]) -> np.ndarray:
        """Scores of both images of each pair, each tokenized against the other, shape (n, 2)."""
        scores = self._run(self._loader(_Pairs(pairs, self.tokenizer, self.preprocess), 2), "score")
        return scores.reshape(-1, 2)

    def embed(self, images: Sequence[ImageRef]) -> np.ndarray:
        """Single-mode features (the 512-d projection for ViT-B/16), shape (n, E)."""
        feats = self._run(self._loader(_Singles(images, self.tokenizer, self.preprocess), 1), "features")
        return feats.reshape(len(images), -1) if len(images) else feats.reshape(0, 0)
