"""Torch dataset and collate for training: schedule keys → tokenized samples → coarse or fine batches.

- Coarse item: one image, tokenized in single mode (reference None), with its 10-bin target.
- Fine item: a whole series (or one random part of a long series); each image is tokenized in pair mode against
  a reference drawn uniformly from the other images of the same series. Two images that
  drew each other share one pair tokenization. Optional augmentation (off by default): horizontal flip and
  90/180/270° rotation (p = 0.5 each, as the authors' hooks), the same for both images of a pair.
- Randomness: a generator seeded from (seed, kind, index, epoch/pass), never the global RNGs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageOps

from fgaesq.data.records import CoarseRecord, SeriesRecord
from fgaesq.data.schedule import Key
from fgaesq.io import load_image


@dataclass
class CoarseItem:
    """One coarse sample and its 10-bin target."""
    sample: Any
    target: np.ndarray


@dataclass
class FineItem:
    """The samples of one series (or part) with its order and annotated pairs."""
    samples: list[Any]
    order: list[int]  # ground-truth order over local indices, best first (ties broken at random)
    pairs: list[tuple[int, int, float, str | None]]  # local a, b, p = P(a ≻ b), text; p = 0.5 left out
    series_id: str
    images: list[str] = field(default_factory=list)


@dataclass
class CoarseBatch:
    """Coarse batch: model inputs and (B, 10) target distributions."""

    inputs: Any
    target: torch.Tensor

    def to(self, device, dtype=None) -> CoarseBatch:
        """Move the batch to `device`."""
        return CoarseBatch(_to(self.inputs, device), self.target.to(device))


@dataclass
class FineBatch:
    """Fine batch: inputs of all images of its series, per-series orders and annotated pairs (global indices)."""

    inputs: Any
    orders: list[torch.Tensor]
    pair_a: torch.Tensor
    pair_b: torch.Tensor
    pair_p: torch.Tensor
    texts: list[str | None]
    series: list[int]  # series number of each image (0..S-1 within the batch)
    series_ids: list[str]

    def to(self, device, dtype=None) -> FineBatch:
        """Move the batch to `device`."""
        return FineBatch(
            _to(self.inputs, device), [o.to(device) for o in self.orders], self.pair_a.to(device),
            self.pair_b.to(device), self.pair_p.to(device), self.texts, self.series, self.series_ids,
        )


def _to(x: Any, device) -> Any:
    if hasattr(x, "to"):
        return x.to(device)
    if isinstance(x, dict):
        return {k: _to(v, device) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return type(x)(_to(v, device) for v in x)
    return x


class TrainItems(torch.utils.data.Dataset):
    """Maps schedule keys to coarse/fine items (decode + tokenize; runs in DataLoader workers)."""

    def __init__(
        self,
        coarse: Sequence[CoarseRecord],
        fine: Sequence[SeriesRecord],
        builder: Any,
        *,
        seed: int = 0,
        flip: bool = False,
        rotate: bool = False,
        max_series_images: int = 64,
        max_size: int | None = 2048,
        loader: Callable[[Any, int | None], Image.Image] = load_image,
    ) -> None:
        self.coarse = list(coarse)
        self.fine = list(fine)
        self.builder = builder
        self.seed = seed
        self.flip = flip
        self.rotate = rotate
        self.max_series_images = max_series_images
        self.max_size = max_size
        self.loader = loader

    def __len__(self) -> int:
        return len(self.coarse) + len(self.fine)

    def __getitem__(self, key: Key) -> CoarseItem | FineItem:
        kind, idx, epoch, part, parts = key
        rng = np.random.default_rng([self.seed, 3 if kind == "c" else 4, idx, epoch])
        if kind == "c":
            rec = self.coarse[idx]
            img = self.loader(rec.image, self.max_size)
            (img,) = self._augment([img], rng)
            return CoarseItem(self.builder.build(img, None, rng), rec.dist)
        return self._fine(self.fine[idx], rng, part, parts)

    def _augment(self, images: list[Image.Image], rng: np.random.Generator) -> list[Image.Image]:
        """The same random flip / rotation for all `images` (one image, or both images of a pair)."""
        if self.flip and rng.random() < 0.5:
            images = [ImageOps.mirror(im) for im in images]
        if self.rotate and rng.random() < 0.5:
            turn = (Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_180, Image.Transpose.ROTATE_270)[int(rng.integers(3))]
            images = [im.transpose(turn) for im in images]
        return images

    def _fine(self, rec: SeriesRecord, rng: np.random.Generator, part: int, parts: int) -> FineItem:
        n = len(rec.images)
        perm = rng.permutation(n)
        members = sorted(int(i) for i in np.array_split(perm, parts)[part]) if parts > 1 else list(range(n))
        refs = {m: int(rng.choice([j for j in range(n) if j != m])) for m in members}
        cache: dict[int, Image.Image] = {}

        def img(i: int) -> Image.Image:
            if i not in cache:
                cache[i] = self.loader(rec.images[i], self.max_size)
            return cache[i]

        local = {m: k for k, m in enumerate(members)}
        samples: list[Any] = [None] * len(members)
        pair_fn = getattr(self.builder, "build_pair", None)
        for m in members:
            if samples[local[m]] is not None:
                continue
            r = refs[m]
            a, b = img(m), img(r)
            a, b = self._augment([a, b], rng)
            if callable(pair_fn) and r in local and refs[r] == m:
                samples[local[m]], samples[local[r]] = pair_fn(a, b, rng)
            else:
                samples[local[m]] = self.builder.build(a, b, rng)
        levels = rec.levels()[members]
        ranked = [k for k in range(len(members)) if not np.isnan(levels[k])]
        tiebreak = rng.random(len(members))
        order = sorted(ranked, key=lambda k: (-levels[k], tiebreak[k]))
        pairs = [
            (local[p.a], local[p.b], p.p, p.text)
            for p in rec.informative_pairs()
            if p.a in local and p.b in local
        ]
        return FineItem(samples, order, pairs, rec.series, [str(rec.images[m]) for m in members])


class TrainCollate:
    """Collate a list of items of one kind into a `CoarseBatch` or a `FineBatch`."""

    def __init__(self, builder: Any) -> None:
        self.builder = builder

    def __call__(self, items: list[CoarseItem | FineItem]) -> CoarseBatch | FineBatch:
        if isinstance(items[0], CoarseItem):
            target = torch.as_tensor(np.stack([it.target for it in items]), dtype=torch.float32)
            return CoarseBatch(self.builder.collate([it.sample for it in items]), target)
        samples, orders, a, b, p, texts, series, ids = [], [], [], [], [], [], [], []
        for s, it in enumerate(items):
            off = len(samples)
            samples.extend(it.samples)
            series.extend([s] * len(it.samples))
            orders.append(torch.as_tensor([off + k for k in it.order], dtype=torch.long))
            for pa, pb, pp, pt in it.pairs:
                a.append(off + pa)
                b.append(off + pb)
                p.append(pp)
                texts.append(pt)
            ids.append(it.series_id)
        return FineBatch(
            self.builder.collate(samples), orders, torch.as_tensor(a, dtype=torch.long),
            torch.as_tensor(b, dtype=torch.long), torch.as_tensor(p, dtype=torch.float32), texts, series, ids,
        )
