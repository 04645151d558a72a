"""The training schedule as a batch sampler: stage 1 coarse-only epochs, stage 2 alternating fine/coarse batches.

Every epoch's batches are a pure function of (seed, epoch), so runs are reproducible, every DDP rank builds the
same global plan, and a resumed run continues exactly where it stopped (`skip`).

- Fine batches: whole series packed until `fine_images` images (a series is never split), in a shuffled order;
  a series longer than `max_series_images` is cut into ⌈n / max⌉ random disjoint parts, each its own batch.
- Coarse batches: `coarse_batch` images from an endless stream of shuffled passes over the coarse set.
- Stage 1 (epoch < stage1_epochs): one pass over the coarse set. Stage 2: one pass over the fine set, with
  `coarse_per_fine` coarse batches after every `fine_per_coarse` fine batches (default 1:1).
- With several processes, each step holds `world_size` batches of the same kind, one per rank.

Keys yielded: ("c", record_index, epoch, 0, 1) and ("f", series_index, epoch, part, n_parts).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

Key = tuple[str, int, int, int, int]


@dataclass
class ScheduleConfig:
    """Batch composition and the stage schedule."""

    coarse_batch: int = 128
    fine_images: int = 64
    max_series_images: int = 64
    stage1_epochs: int = 3
    fine_per_coarse: int = 1  # fine batches per group in stage 2
    coarse_per_fine: int = 1  # coarse batches per group in stage 2 (0 = fine only)
    seed: int = 0


class ScheduleSampler:
    """Batch sampler over (kind, index, epoch, part, parts) keys; see the module doc."""

    def __init__(
        self,
        n_coarse: int,
        series_sizes: Sequence[int],
        cfg: ScheduleConfig,
        *,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        self.n_coarse = n_coarse
        self.sizes = list(series_sizes)
        self.cfg = cfg
        self.rank = rank
        self.world = world_size
        self.epoch = 0
        self.skip = 0  # steps of the current epoch already done (resume)
        self._plans: dict[int, list] = {}
        if n_coarse == 0 and not self.sizes:
            raise ValueError("no training data: give coarse data, fine data or both")

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose plan is iterated (Lightning calls this before each epoch)."""
        if epoch != self.epoch:
            self.skip = 0
        self.epoch = epoch

    # ---------------------------------------------------------------- plan
    def _coarse_per_pass(self) -> int:
        if self.n_coarse == 0:
            return 0
        return max(1, self.n_coarse // self.cfg.coarse_batch)

    def _fine_steps(self, epoch: int) -> list[list[list[Key]]]:
        rng = np.random.default_rng([self.cfg.seed, 1, epoch])
        batches: list[list[Key]] = []
        cur: list[Key] = []
        count = 0
        for s in rng.permutation(len(self.sizes)):
            n = self.sizes[s]
            if n > self.cfg.max_series_images:
                parts = math.ceil(n / self.cfg.max_series_images)
                batches.extend([[("f", int(s), epoch, p, parts)] for p in range(parts)])
                continue
            if cur and count + n > self.cfg.fine_images:
                batches.append(cur)
                cur, count = [], 0
            cur.append(("f", int(s), epoch, 0, 1))
            count += n
        if cur:
            batches.append(cur)
        order = rng.permutation(len(batches))
        batches = [batches[i] for i in order]
        steps = math.ceil(len(batches) / self.world)
        batches += batches[: steps * self.world - len(batches)]  # pad so every rank has a batch each step
        return [batches[k * self.world : (k + 1) * self.world] for k in range(steps)]

    def _stage1(self, epoch: int) -> bool:
        return self.n_coarse > 0 and (epoch < self.cfg.stage1_epochs or not self.sizes)

    def _coarse_steps_in(self, epoch: int) -> int:
        if self.n_coarse == 0:
            return 0
        if self._stage1(epoch):
            return max(1, self._coarse_per_pass() // self.world)
        if self.cfg.coarse_per_fine == 0:
            return 0
        n_fine = len(self._fine_steps(epoch))
        return math.ceil(n_fine / self.cfg.fine_per_coarse) * self.cfg.coarse_per_fine

    def _coarse_batch(self, j: int) -> list[Key]:
        """Batch j of the endless coarse stream (passes of floor(n / B) batches, each pass reshuffled)."""
        per = self._coarse_per_pass()
        pass_no, k = divmod(j, per)
        perm = np.random.default_rng([self.cfg.seed, 2, pass_no]).permutation(self.n_coarse)
        b = min(self.cfg.coarse_batch, self.n_coarse)
        return [("c", int(i), pass_no, 0, 1) for i in perm[k * b : (k + 1) * b]]

    def plan(self, epoch: int) -> list[list[list[Key]]]:
        """All steps of `epoch`: each step = `world_size` batches (one per rank) of the same kind."""
        if epoch not in self._plans:
            self._plans = {epoch: self._plan(epoch)}
        return self._plans[epoch]

    def _plan(self, epoch: int) -> list[list[list[Key]]]:
        start = sum(self._coarse_steps_in(e) for e in range(epoch)) * self.world
        n_c = self._coarse_steps_in(epoch)
        coarse = [[self._coarse_batch(start + s * self.world + r) for r in range(self.world)] for s in range(n_c)]
        if self._stage1(epoch):
            return coarse
        fine = self._fine_steps(epoch)
        out: list[list[list[Key]]] = []
        fi = ci = 0
        while fi < len(fine):
            out.extend(fine[fi : fi + self.cfg.fine_per_coarse])
            fi += self.cfg.fine_per_coarse
            out.extend(coarse[ci : ci + self.cfg.coarse_per_fine])
            ci += self.cfg.coarse_per_fine
        return out

    # ---------------------------------------------------------------- sampler protocol
    def __iter__(self) -> Iterator[list[Key]]:
        for step in self.plan(self.epoch)[self.skip :]:
            yield step[self.rank]

    def __len__(self) -> int:
        return len(self.plan(self.epoch))
