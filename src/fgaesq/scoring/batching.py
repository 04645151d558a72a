"""Work items for DiffToken scorers and the loop that turns them into batched forwards.

An item is everything that must be decoded and tokenized together: one image (single mode), the pairs of one
series (each image decoded once for all its pairs), or a whole series (series mode). Items are tokenized in
DataLoader workers; their sequences are regrouped into forward batches of `batch_size`, sorted by real length
when padding can be skipped, and the outputs are returned in item order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from fgaesq.model.registry import Preprocess
from fgaesq.scoring.images import decode_array
from fgaesq.scoring.protocol import ImageRef

#: an item: ("single", ref) | ("pairs", [(a, b, pair_id), ...]) | ("series", (refs, series_id))
Item = tuple[str, object]
#: forward(TokenBatch) -> {"score": (B,), "features": (B, E)} as numpy arrays
Forward = Callable[[object], dict[str, np.ndarray]]


def _key(ref: ImageRef) -> object:
    return ("img", id(ref)) if not isinstance(ref, str | bytes) and not hasattr(ref, "__fspath__") else str(ref)


class Items(Dataset):
    """Decodes and tokenizes one item per index, inside DataLoader workers."""

    def __init__(self, items: Sequence[Item], tokenizer, pre: Preprocess) -> None:
        self.items, self.tokenizer, self.pre = list(items), tokenizer, pre

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> list:
        kind, payload = self.items[i]
        if kind == "single":
            return [self.tokenizer.single(decode_array(payload, self.pre))]
        if kind == "pairs":
            cache: dict[object, np.ndarray] = {}

            def get(ref: ImageRef) -> np.ndarray:
                k = _key(ref)
                if k not in cache:
                    cache[k] = decode_array(ref, self.pre)
                return cache[k]

            out = []
            for a, b, pair_id in payload:
                out += list(self.tokenizer.pair(get(a), get(b), pair_id=pair_id))
            return out
        if kind == "series":
            refs, series_id = payload
            return self.tokenizer.series([decode_array(r, self.pre) for r in refs], series_id=series_id)
        raise ValueError(f"unknown work item kind {kind!r}")


def _identity(x):
    return x


def group_pairs(pairs: Sequence[tuple[ImageRef, ImageRef, str]], max_pairs: int = 64) -> list[Item]:
    """Consecutive pairs that share images (one series' pairs) as one item, at most max_pairs each."""
    items: list[Item] = []
    current: list = []
    seen: set = set()
    for a, b, pid in pairs:
        ka, kb = _key(a), _key(b)
        if current and (len(current) >= max_pairs or (ka not in seen and kb not in seen)):
            items.append(("pairs", current))
            current, seen = [], set()
        current.append((a, b, pid))
        seen.update((ka, kb))
    if current:
        items.append(("pairs", current))
    return items


def run_items(
    items: Sequence[Item],
    tokenizer,
    pre: Preprocess,
    forward: Forward,
    *,
    batch_size: int,
    workers: int,
    bucket: bool,
    pin_memory: bool = False,
) -> list[dict[str, np.ndarray]]:
    """Tokenize every item (in `workers` processes) and run the forwards; one {output: array} per item."""
    from fgaesq.tokenize import collate_tokens

    if not items:
        return []
    workers = min(workers, len(items) - 1) if len(items) > 1 else 0
    loader = DataLoader(
        Items(items, tokenizer, pre), batch_size=None, shuffle=False, num_workers=workers,
        collate_fn=_identity, persistent_workers=False, prefetch_factor=4 if workers else None,
    )
    sizes: list[int] = []
    results: dict[int, dict[str, np.ndarray]] = {}
    pending: list[tuple[int, object]] = []  # (global sequence index, Tokens)

    def flush(all_of_it: bool) -> None:
        nonlocal pending
        if bucket:  # similar real lengths together, so trailing padding is cut from whole batches
            pending.sort(key=lambda p: int((~p[1].pad).sum()))
        keep = [] if all_of_it else pending[len(pending) // batch_size * batch_size :]
        todo = pending[: len(pending) - len(keep)]
        for s in range(0, len(todo), batch_size):
            chunk = todo[s : s + batch_size]
            batch = collate_tokens([t for _, t in chunk])
            if pin_memory:
                batch = type(batch)(batch.patches.pin_memory(), batch.pos.pin_memory(), batch.scale, batch.pad,
                                    batch.infos)
            out = forward(batch)
            for row, (g, _) in enumerate(chunk):
                results[g] = {k: v[row] for k, v in out.items()}
        pending = keep

    total = 0
    for tokens in loader:
        sizes.append(len(tokens))
        pending += [(total + r, t) for r, t in enumerate(tokens)]
        total += len(tokens)
        if len(pending) >= (4 if bucket else 1) * batch_size:
            flush(False)
    flush(True)
    out, g = [], 0
    for n in sizes:
        rows = [results[g + r] for r in range(n)]
        g += n
        out.append({k: np.stack([r[k] for r in rows]) for k in (rows[0] if rows else {})})
    return out


def torch_forward(model: torch.nn.Module, device: torch.device, dtype: torch.dtype | None) -> Forward:
    """The forward of a torch FGAesQ model on `device` (autocast to dtype on GPUs)."""
    from fgaesq.scoring.device import autocast

    @torch.inference_mode()
    def forward(batch) -> dict[str, np.ndarray]:
        batch = batch.to(device)
        with autocast(device, dtype):
            out = model(batch)
        return {"score": out.score.float().cpu().numpy(), "features": out.features.float().cpu().numpy()}

    return forward
