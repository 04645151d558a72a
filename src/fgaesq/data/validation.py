"""Validation items: fine series scored pairwise (each image tokenized against its partner), coarse images alone.

Series with at most `all_pairs_max` images are scored on all C(n,2) pairs (as inference does); longer ones on their
annotated pairs (plus one neighbour pair for any image in none). An image's series score is the mean of its pair scores. Tokenization seeds are fixed (derived from
the item), so validation is deterministic. Entries are sharded over processes (`rank::world_size`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from fgaesq.data.records import CoarseRecord, SeriesRecord
from fgaesq.io import load_image


@dataclass
class ValBatch:
    """A validation batch: inputs, and per row (kind, series or record index, image index)."""

    inputs: Any
    kind: str  # "f" (rows come in pairs a, b) or "c"
    index: torch.Tensor  # (B,) series index (fine) or record index (coarse)
    image: torch.Tensor  # (B,) image index within the series (fine); -1 for coarse

    def to(self, device, dtype=None) -> ValBatch:
        """Move the batch to `device`."""
        inputs = self.inputs.to(device) if hasattr(self.inputs, "to") else self.inputs
        return ValBatch(inputs, self.kind, self.index, self.image)


def fine_val_entries(series: Sequence[SeriesRecord], all_pairs_max: int = 8) -> list[tuple[int, int, int]]:
    """(series index, image i, image j) for every pair to score."""
    out = []
    for s, rec in enumerate(series):
        n = len(rec.images)
        if n <= all_pairs_max:
            out += [(s, i, j) for i in range(n) for j in range(i + 1, n)]
        else:
            seen = {(min(p.a, p.b), max(p.a, p.b)) for p in rec.pairs}
            covered = {i for pr in seen for i in pr}
            for i in range(n):  # every image gets at least one pair score (its next neighbour)
                if i not in covered:
                    j = (i + 1) % n
                    seen.add((min(i, j), max(i, j)))
            out += [(s, i, j) for i, j in sorted(seen)]
    return out


class ValItems(torch.utils.data.Dataset):
    """Index → tokenized pair (fine) or single image (coarse)."""

    def __init__(self, kind: str, coarse: Sequence[CoarseRecord], fine: Sequence[SeriesRecord], builder: Any,
                 *, all_pairs_max: int = 8, seed: int = 0, max_size: int | None = 2048) -> None:
        self.kind = kind
        self.coarse, self.fine = list(coarse), list(fine)
        self.entries = fine_val_entries(self.fine, all_pairs_max) if kind == "f" else list(range(len(self.coarse)))
        self.builder = builder
        self.seed = seed
        self.max_size = max_size

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, k: int):
        if self.kind == "c":
            rng = np.random.default_rng([self.seed, 6, k])
            img = load_image(self.coarse[k].image, self.max_size)
            return [self.builder.build(img, None, rng)], [k], [-1]
        s, i, j = self.entries[k]
        rec = self.fine[s]
        a, b = (load_image(rec.images[x], self.max_size) for x in (i, j))
        rng = np.random.default_rng([self.seed, 5, s, i, j])
        pair_fn = getattr(self.builder, "build_pair", None)
        samples = list(pair_fn(a, b, rng)) if callable(pair_fn) else [self.builder.build(a, b, rng), self.builder.build(b, a, rng)]
        return samples, [s, s], [i, j]


class ValCollate:
    """Collate validation items into a `ValBatch`."""

    def __init__(self, builder: Any, kind: str) -> None:
        self.builder, self.kind = builder, kind

    def __call__(self, items) -> ValBatch:
        samples = [x for it in items for x in it[0]]
        index = torch.as_tensor([x for it in items for x in it[1]], dtype=torch.long)
        image = torch.as_tensor([x for it in items for x in it[2]], dtype=torch.long)
        return ValBatch(self.builder.collate(samples), self.kind, index, image)


class ShardSampler(torch.utils.data.Sampler):
    """Indices rank::world_size, in order (validation)."""

    def __init__(self, n: int, rank: int = 0, world_size: int = 1) -> None:
        self.idx = list(range(rank, n, world_size))

    def __iter__(self):
        return iter(self.idx)

    def __len__(self) -> int:
        return len(self.idx)
