"""The LightningDataModule: reads and validates the label files, builds the schedule sampler and loaders."""

from __future__ import annotations

from typing import Any

import lightning as L
import torch

from fgaesq.data.coarse import read_coarse
from fgaesq.data.datasets import TrainCollate, TrainItems
from fgaesq.data.fine import read_fine
from fgaesq.data.records import CoarseRecord, SeriesRecord
from fgaesq.data.schedule import ScheduleConfig, ScheduleSampler
from fgaesq.data.validation import ShardSampler, ValCollate, ValItems
from fgaesq.io import load_image
from fgaesq.train.config import TrainConfig


def read_fine_all(specs: list[str], images_root: str | None, first_better: bool) -> list[SeriesRecord]:
    """Series of every fine spec, in order (series ids prefixed by the file when several files are given)."""
    out: list[SeriesRecord] = []
    for spec in specs:
        recs = read_fine(spec, images_root, prob_first_better=first_better)
        out.extend(recs)
    return out


class FGAesQData(L.LightningDataModule):
    """Coarse + fine training data in one schedule-driven loader; fine and coarse validation loaders."""

    def __init__(self, cfg: TrainConfig, builder: Any) -> None:
        super().__init__()
        d = cfg.data
        self.cfg = cfg
        self.builder = builder
        self.train_coarse: list[CoarseRecord] = (
            read_coarse(d.coarse_train, d.coarse_images, default_std=d.default_std) if d.coarse_train else []
        )
        self.val_coarse: list[CoarseRecord] = (
            read_coarse(d.coarse_val, d.coarse_images, default_std=d.default_std) if d.coarse_val else []
        )
        self.train_fine = read_fine_all(d.fine_train, d.fine_images, d.fga_prob_first_better)
        self.val_fine = read_fine_all(d.fine_val, d.fine_images, d.fga_prob_first_better)
        if not self.train_coarse and not self.train_fine:
            raise ValueError("no training data: set data.coarse_train (--coarse-train) and/or data.fine_train (--fine-train)")
        self.schedule = ScheduleConfig(
            coarse_batch=d.coarse_batch, fine_images=d.fine_batch_images, max_series_images=d.max_series_images,
            stage1_epochs=d.stage1_epochs, fine_per_coarse=d.fine_per_coarse, coarse_per_fine=d.coarse_per_fine,
            seed=cfg.trainer.seed,
        )
        self._resume: dict | None = None
        self.sampler: ScheduleSampler | None = None

    @property
    def has_texts(self) -> bool:
        """Whether any training pair carries a comparative text (CTAlign can run)."""
        return any(p.text for s in self.train_fine for p in s.pairs)

    def _rank_world(self) -> tuple[int, int]:
        t = self.trainer
        return (t.global_rank, t.world_size) if t is not None else (0, 1)

    def _loader_kw(self) -> dict:
        nw = self.cfg.data.num_workers
        return {"num_workers": nw, "persistent_workers": nw > 0, "pin_memory": torch.cuda.is_available()}

    def train_dataloader(self) -> torch.utils.data.DataLoader:
        """The schedule-driven training loader of the current epoch (this rank's batches)."""
        rank, world = self._rank_world()
        sampler = ScheduleSampler(len(self.train_coarse), [len(s.images) for s in self.train_fine], self.schedule,
                                  rank=rank, world_size=world)
        sampler.sampler = sampler  # Lightning calls set_epoch on `batch_sampler.sampler`
        if self._resume:
            epoch, done = int(self._resume["epoch"]), int(self._resume["steps"])
            if done >= len(sampler.plan(epoch)):
                epoch, done = epoch + 1, 0
            sampler.epoch, sampler.skip = epoch, done
            self._resume = None
        elif self.trainer is not None:
            sampler.epoch = self.trainer.current_epoch  # epochs differ in length: the loader is rebuilt each epoch
        self.sampler = sampler
        d = self.cfg.data
        items = TrainItems(self.train_coarse, self.train_fine, self.builder, seed=self.cfg.trainer.seed, flip=d.flip,
                           rotate=d.rotate,
                           max_series_images=d.max_series_images, max_size=d.max_size or None,
                           loader=getattr(self.builder, "loader", load_image))  # a builder may decode lazily
        # own generator: creating the loader's iterator must not draw from the global torch RNG (exact resume)
        gen = torch.Generator().manual_seed(self.cfg.trainer.seed * 1000 + sampler.epoch)
        return torch.utils.data.DataLoader(items, batch_sampler=sampler, collate_fn=TrainCollate(self.builder),
                                           generator=gen, **self._loader_kw())

    def val_dataloader(self) -> list[torch.utils.data.DataLoader]:
        """Fine (pairwise) and coarse validation loaders, sharded over ranks."""
        rank, world = self._rank_world()
        d = self.cfg.data
        loaders = []
        for kind, present in (("f", self.val_fine), ("c", self.val_coarse)):
            if not present:
                continue
            ds = ValItems(kind, self.val_coarse, self.val_fine, self.builder, all_pairs_max=d.val_all_pairs_max,
                          seed=self.cfg.trainer.seed, max_size=d.max_size or None,
                          loader=getattr(self.builder, "loader", load_image))
            per = max(1, d.val_batch // 2) if kind == "f" else d.val_batch
            loaders.append(torch.utils.data.DataLoader(
                ds, batch_size=per, sampler=ShardSampler(len(ds), rank, world), collate_fn=ValCollate(self.builder, kind),
                generator=torch.Generator().manual_seed(self.cfg.trainer.seed), **self._loader_kw()))
        return loaders

    # resume: where in the epoch plan the run stopped
    def state_dict(self) -> dict:
        """Where the run is in the epoch plan (saved in checkpoints)."""
        t = self.trainer
        if t is None:
            return {}
        return {"epoch": t.current_epoch, "steps": t.fit_loop.epoch_loop.batch_progress.current.processed}

    def load_state_dict(self, state: dict) -> None:
        """Remember the saved position; the next train loader skips what was done."""
        self._resume = state or None
