"""CPU threads for scoring: how many tokenizing workers, how many intra-op threads for the forward.

Tokenizing workers are single-threaded processes; the forward runs in the main process. Together they never
ask for more threads than there are cores, so neither spins waiting for the other (OpenMP barriers with more
threads than free cores are what makes a busy machine 20x slower).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import torch

#: models above this many parameters spend their time in the forward: it gets the cores
HEAVY_PARAMS = 20_000_000


def available_cores() -> int:
    """Cores this process may run on (CPU affinity, e.g. a container's or taskset's limit)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def plan_threads(model: torch.nn.Module, workers: int | None, device: torch.device) -> tuple[int, int]:
    """(tokenizing workers, forward threads). workers None/-1 = auto.

    Auto on the CPU: a heavy network (ViT-B/16) gets every core for the forward and one worker tokenizes
    ahead of it; a light one (tiny, 2-layer) tokenizes on every core and runs its small forward on one thread.
    On a GPU every core tokenizes and the forward thread only feeds the device.
    """
    cores = available_cores()
    n_params = sum(p.numel() for p in model.parameters())
    heavy = n_params > HEAVY_PARAMS and device.type == "cpu"
    if workers is None or workers < 0:
        workers = 1 if heavy and cores > 1 else cores if cores > 1 else 0
    forward = cores if heavy else 1
    if device.type == "cpu" and not heavy:
        forward = 1 if workers else min(cores, 2)
    return int(workers), max(1, int(forward))


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with n intra-op threads, then restore the previous setting."""
    before = torch.get_num_threads()
    if n != before:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)
