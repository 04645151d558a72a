"""Build everything from a `TrainConfig`, run Lightning's fit, export the best model."""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import importlib
import logging
import os
import warnings
from pathlib import Path
from typing import Any

import torch

from fgaesq.train.config import TrainConfig
from fgaesq.train.inputs import input_builder_for

log = logging.getLogger(__name__)


def _start_weights(model: torch.nn.Module, init: str) -> None:
    """Load checkpoint `init` (any load_model spec) into a factory-built model, strictly."""
    from fgaesq.model import CheckpointError, load_model

    source = load_model(init).state_dict()
    target = model.state_dict()
    missing = sorted(set(target) - set(source))
    unexpected = sorted(set(source) - set(target))
    if missing or unexpected:
        raise CheckpointError(
            f"--init {init}: does not fit the {type(model).__name__} built by --factory "
            f"(missing {missing[:4] or 'none'}, unexpected {unexpected[:4] or 'none'})"
        )
    model.load_state_dict(source, strict=True)


def model_options(options: list[str]) -> dict:
    """``["technical=2", "penalties=[noise, jpeg]"]`` -> {"technical": 2, "penalties": ["noise", "jpeg"]} (YAML values)."""
    import yaml

    out = {}
    for item in options:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"model.options {item!r}: expected KEY=VALUE, e.g. technical=2")
        out[key.strip()] = yaml.safe_load(value)
    return out


def build_model(cfg: TrainConfig) -> torch.nn.Module:
    """The model to train: registry name (or `model.factory`) + `model.init` start weights, via fgaesq.model's loader."""
    from fgaesq.model import create_model, load_model, load_openai_visual

    m = cfg.model
    clip_init = m.init == "openai" or m.init.startswith("openai:")
    if m.options and (m.factory or not (m.init == "random" or clip_init)):
        raise ValueError(f"model.options {m.options}: they configure a new registry model (init random or openai), "
                         "not a --factory model or a checkpoint, which keeps its own architecture")
    if m.factory:
        mod, _, fn = m.factory.partition(":")
        if not fn:
            raise ValueError(f"model.factory {m.factory!r}: expected 'package.module:function'")
        model = getattr(importlib.import_module(mod), fn)(name=m.model)
    elif m.init == "random" or clip_init:
        try:
            model = create_model(m.model, **model_options(m.options))
        except TypeError as e:  # an option the model's config does not have
            raise ValueError(f"model.options {m.options}: {m.model} does not take them ({e})") from None
    else:
        model = load_model(m.init)  # the checkpoint says which model it is
    if clip_init:
        if hasattr(model, "visual"):
            load_openai_visual(model, m.init.partition(":")[2] or None)
        else:
            log.warning("fgaesq train: --init %s does not apply to %s (no CLIP image tower): it starts from its "
                        "own pretrained parts (%s)", m.init, type(model).__name__, getattr(model, "source", "new"))
    elif m.factory and m.init != "random":
        _start_weights(model, m.init)
    if m.compat is not None and hasattr(model, "compat"):
        model.compat = m.compat
    config = getattr(model, "config", None)
    if hasattr(model, "pos_source") and dataclasses.is_dataclass(config) and getattr(config, "seq_len", None) != m.seq_len:
        model.config = dataclasses.replace(config, seq_len=m.seq_len)  # travels into the exported checkpoint
    if m.grad_checkpointing and hasattr(model, "set_grad_checkpointing"):
        model.set_grad_checkpointing(True)
    freeze_unused(model)
    return model.train()


def freeze_unused(model: torch.nn.Module) -> list[str]:
    """Freeze what the recipe does not train.

    FGAesQ's positional table enters as tokenizer input, so no gradient reaches it: frozen. In compat mode the
    scale embedding is frozen too, as in the authors' code (its lookup bypassed autograd there); new models
    (compat off) train it.
    """
    names = []
    visual = getattr(model, "visual", None)
    pos = getattr(visual, "positional_embedding", None)
    if isinstance(pos, torch.nn.Parameter) and hasattr(model, "pos_source"):
        pos.requires_grad_(False)
        names.append("visual.positional_embedding")
    scale = getattr(model, "scale_embedding", None)
    if isinstance(scale, torch.nn.Parameter) and bool(getattr(model, "compat", False)):
        scale.requires_grad_(False)
        names.append("scale_embedding")
    if names:
        log.info("fgaesq train: frozen %s", ", ".join(names))
    return names


def export_model(model: torch.nn.Module, path: str | Path, metadata: dict[str, Any] | None = None) -> Path:
    """Save `model` as PATH.safetensors + PATH.json: fgaesq.model's format for registered families, else its own
    `save_pretrained`."""
    path = Path(path)
    from fgaesq.model import FGAesQ, save_checkpoint
    from fgaesq.model.lite import FGAesQLite

    save = getattr(model, "save_pretrained", None)
    if callable(save) and not isinstance(model, FGAesQ | FGAesQLite):
        return Path(save(path.with_suffix(".safetensors")) or path.with_suffix(".safetensors"))

    return save_checkpoint(model, path.with_suffix(".safetensors"), metadata=metadata)


def _precision(cfg: TrainConfig, accelerator: str) -> str:
    if cfg.trainer.precision:
        return cfg.trainer.precision
    gpu = accelerator in ("gpu", "cuda") or (accelerator == "auto" and torch.cuda.is_available())
    return "bf16-mixed" if gpu else "32-true"


def _devices(spec: str) -> Any:
    if spec == "auto":
        return "auto"
    if "," in spec:
        return [int(x) for x in spec.split(",") if x.strip()]
    return int(spec)


def quiet_lightning() -> None:
    """Keep Lightning's banners, tips and deprecation warnings off the terminal (errors still show)."""
    for name in ("lightning.pytorch.utilities.rank_zero", "lightning.pytorch.accelerators.cuda",
                 "lightning.fabric.utilities.seed", "lightning.pytorch.callbacks.model_summary"):
        logging.getLogger(name).setLevel(logging.WARNING)
    for category in (DeprecationWarning, FutureWarning):
        warnings.filterwarnings("ignore", category=category, module=r"(lightning|torch|torchmetrics)(\.|$)")
    with contextlib.suppress(ImportError):
        from lightning.fabric.utilities.warnings import PossibleUserWarning

        warnings.filterwarnings("ignore", category=PossibleUserWarning)
    warnings.filterwarnings("ignore", message=r".*(litmodels|LitLogger|Tip:).*")
    warnings.filterwarnings("ignore", message=r".*does not have many workers.*")
    # on resume the logs are kept (see merge_metrics) and checkpoints are added to, so these would mislead
    warnings.filterwarnings("ignore", message=r"Experiment logs directory .* exists and is not empty")
    warnings.filterwarnings("ignore", message=r"Checkpoint directory .* exists and is not empty")


def check_resume_checkpoint(path: str | Path) -> int:
    """The global step a Lightning checkpoint resumes from; raises CheckpointError naming an unusable file."""
    from fgaesq.model.statedict import CheckpointError

    p = Path(path)
    if not p.is_file():
        raise CheckpointError(f"{p}: no such checkpoint to resume from; give --resume PATH.ckpt or 'last' "
                              "after a run has saved one")
    if p.stat().st_size == 0:
        raise CheckpointError(f"{p}: empty file (0 bytes); resume from another checkpoint in the same folder")
    try:
        state = torch.load(p, map_location="cpu", weights_only=True, mmap=True)
    except Exception as e:  # noqa: BLE001 - truncated zips, random bytes and foreign pickles fail in many ways
        first = (str(e).splitlines() or [""])[0][:160]
        raise CheckpointError(
            f"{p}: not a readable training checkpoint ({type(e).__name__}: {first}); it is damaged or incomplete - "
            "resume from another checkpoint in the same folder"
        ) from None
    if not isinstance(state, dict) or "state_dict" not in state:
        raise CheckpointError(f"{p}: not a Lightning training checkpoint (no state_dict); give a .ckpt written by "
                              "fgaesq train")
    try:
        return int(state.get("global_step", 0))
    except (TypeError, ValueError):
        return 0


def _read_metrics(path: Path) -> tuple[list[str], list[dict]]:
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            return list(reader.fieldnames or []), list(reader)
    except (OSError, csv.Error, UnicodeDecodeError):
        return [], []


def merge_metrics(before: Path, after: Path, resumed_step: int) -> None:
    """Put the rows logged before a resume back in front of the resumed run's rows (none logged twice)."""
    old_cols, old = _read_metrics(before)
    new_cols, new = _read_metrics(after)

    def step(row: dict) -> float:
        try:
            return float(row.get("step") or 0)
        except ValueError:
            return 0.0

    cutoff = min((step(r) for r in new), default=resumed_step)
    rows = [r for r in old if step(r) < cutoff] + new
    cols = list(dict.fromkeys(old_cols + new_cols))
    from fgaesq.io.atomic import atomic_open

    with atomic_open(after, newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    before.unlink()


def make_trainer(cfg: TrainConfig, *, callbacks: list | None = None, monitor: str | None = "val/select", **extra: Any):
    """The Lightning Trainer of a run: checkpoints (best + last), CSV + TensorBoard logs, progress bars."""
    import lightning as L
    from lightning.pytorch.callbacks import ModelCheckpoint
    from lightning.pytorch.loggers import CSVLogger

    quiet_lightning()
    t = cfg.trainer
    out = Path(t.out_dir)
    # flushed as often as it logs, so a killed run keeps its metrics up to the kill
    loggers = [CSVLogger(out, name="logs", version="", flush_logs_every_n_steps=max(1, int(t.log_every or 1)))]
    try:
        from lightning.pytorch.loggers import TensorBoardLogger

        loggers.append(TensorBoardLogger(out, name="tensorboard", version=""))
    except (ImportError, ModuleNotFoundError):  # tensorboard not installed: CSV only
        log.warning("tensorboard not installed: CSV logs only")
    ckpts = [ModelCheckpoint(dirpath=out / "checkpoints", filename="best-{epoch}-{step}", monitor=monitor, mode="max",
                             save_last=True, save_top_k=1 if monitor else 0)]
    if t.ckpt_every_steps:
        ckpts.append(ModelCheckpoint(dirpath=out / "checkpoints", filename="step-{step}", every_n_train_steps=t.ckpt_every_steps,
                                     save_top_k=-1, save_last=True))
    kw: dict[str, Any] = dict(
        max_epochs=t.epochs, max_steps=t.max_steps, accelerator=t.accelerator, devices=_devices(t.devices),
        num_nodes=t.num_nodes, strategy=t.strategy, precision=_precision(cfg, t.accelerator),
        default_root_dir=out, logger=loggers, log_every_n_steps=t.log_every,
        check_val_every_n_epoch=t.val_every, enable_progress_bar=t.progress, use_distributed_sampler=False,
        num_sanity_val_steps=0, reload_dataloaders_every_n_epochs=1, gradient_clip_val=cfg.optim.grad_clip,
        deterministic=t.deterministic,
    )
    kw.update(extra)
    if kw.get("enable_checkpointing") is False:
        ckpts = []
    bars = []
    if t.progress:
        from lightning.pytorch.callbacks import RichProgressBar

        bars.append(RichProgressBar())
    kw["callbacks"] = ckpts + bars + (callbacks or [])
    return L.Trainer(**kw)


def _announce(cfg: TrainConfig, model: torch.nn.Module, data: Any, text: Any) -> None:
    """One summary line of what is about to be trained (rank zero only)."""
    import os

    if int(os.environ.get("LOCAL_RANK", "0")) or int(os.environ.get("NODE_RANK", "0")):
        return
    n_img = sum(len(s.images) for s in data.train_fine)
    if text is not None:
        why = f"on (λ={cfg.loss.align_weight}, {text.source})"
    else:
        why = "off (λ=0)" if not cfg.loss.align_weight else "off (no comparative texts in the data)"
    from rich.console import Console

    Console(stderr=True, highlight=False).print(
        f"fgaesq train: {cfg.model.model} from {getattr(model, 'source', cfg.model.init)}; fine "
        f"{len(data.train_fine)} series / {n_img} images, coarse {len(data.train_coarse)} images; CTAlign {why}; "
        f"out {cfg.trainer.out_dir}", markup=False, soft_wrap=True,
    )


def train(cfg: TrainConfig, *, callbacks: list | None = None, **trainer_kw: Any) -> dict[str, Any]:
    """Run a training job; returns paths (best/last checkpoints, exported model) and the final metrics."""
    import lightning as L

    from fgaesq.train.datamodule import FGAesQData
    from fgaesq.train.module import FGAesQModule
    from fgaesq.train.text import TextTower

    ckpt = cfg.trainer.resume
    if ckpt == "last":
        ckpt = str(Path(cfg.trainer.out_dir) / "checkpoints" / "last.ckpt")
    resumed_step = check_resume_checkpoint(ckpt) if ckpt else None  # before any work: one line if unusable
    from fgaesq.train.module import selection_metric

    selection_metric({}, cfg.trainer.select)  # an unknown rule is refused before any work
    if not cfg.loss.emd_weight >= 0:
        raise ValueError(f"loss.emd_weight must be a number >= 0, not {cfg.loss.emd_weight!r}")
    L.seed_everything(cfg.trainer.seed, workers=True, verbose=False)
    model = build_model(cfg)
    builder = input_builder_for(model)
    data = FGAesQData(cfg, builder)
    text = None
    if cfg.loss.align_weight and data.has_texts:
        text = TextTower(cfg.loss.text_tower, int(getattr(model, "embed_dim", 512)))
    module = FGAesQModule(model, cfg, text)
    _announce(cfg, model, data, text)
    has_val = bool(data.val_fine or data.val_coarse)
    extra = dict(trainer_kw)
    if not has_val:
        extra.setdefault("limit_val_batches", 0)
    trainer = make_trainer(cfg, callbacks=callbacks, monitor="val/select" if has_val else None, **extra)
    metrics = Path(cfg.trainer.out_dir) / "logs" / "metrics.csv"
    before = metrics.with_name("metrics.before-resume.csv")
    if resumed_step is not None:
        if metrics.is_file() and trainer.is_global_zero:
            if before.is_file():  # an earlier resume was killed too: keep its rows as well
                merge_metrics(before, metrics, resumed_step)
            os.replace(metrics, before)  # Lightning's CSV logger starts metrics.csv afresh
    try:
        trainer.fit(module, datamodule=data, ckpt_path=ckpt)
    finally:
        if resumed_step is not None and before.is_file() and trainer.is_global_zero:
            if metrics.is_file():
                merge_metrics(before, metrics, resumed_step)
            else:
                os.replace(before, metrics)
    result: dict[str, Any] = {"metrics": {k: float(v) for k, v in trainer.callback_metrics.items()}}
    best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
    result["best_checkpoint"] = best or None
    result["last_checkpoint"] = str(Path(cfg.trainer.out_dir) / "checkpoints" / "last.ckpt")
    if trainer.is_global_zero:
        if best:
            state = torch.load(best, map_location="cpu", weights_only=True)["state_dict"]
            model.load_state_dict({k[len("model."):]: v for k, v in state.items() if k.startswith("model.")})
        meta = {"trained_with": "fgaesq train", "best_checkpoint": best or None,
                "val": {k: v for k, v in result["metrics"].items() if k.startswith("val/")}}
        result["exported"] = str(export_model(model.cpu(), Path(cfg.trainer.out_dir) / "best", meta))
    result["trainer"] = trainer
    result["module"] = module
    return result
