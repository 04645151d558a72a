"""The training run configuration: nested dataclasses ↔ YAML ↔ command-line options.

Every field is also a command-line option named after it (`--lr`, `--fine-train`, …; field names are unique
across sections). Precedence: defaults < `--config run.yaml` < command-line options.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


def _f(default: Any, help: str, **kw: Any) -> Any:
    if isinstance(default, list):
        return field(default_factory=lambda d=default: list(d), metadata={"help": help, **kw})
    return field(default=default, metadata={"help": help, **kw})


@dataclass
class DataSection:
    """Label files, batch composition and schedule."""
    coarse_train: str | None = _f(None, "coarse training labels: AVA.txt, or CSV (image,score[,std] | image,mos[,mos_std] | image,v1..v10)")
    coarse_val: str | None = _f(None, "coarse validation labels (same formats)")
    coarse_images: str | None = _f(None, "folder of the coarse images (default: the label file's folder or its images/)")
    fine_train: list[str] = _f([], "fine training data: series JSONL, FGAesthetics label .txt, or a folder of series folders (repeatable)")
    fine_val: list[str] = _f([], "fine validation data (same formats, repeatable)")
    fine_images: str | None = _f(None, "images root of FGAesthetics label files (<root>/<series>/<series>-<idx>.<ext>)")
    fga_prob_first_better: bool = _f(True, "FGAesthetics 4th field = P(first image better); --no-fga-prob-first-better reverses it")
    default_std: float = _f(1.5, "std of the Gaussian for CSV scores without a std column")
    max_size: int = _f(2048, "long-side cap when decoding training images (0 = native)")
    coarse_batch: int = _f(128, "images per coarse batch")
    fine_batch_images: int = _f(64, "images per fine batch (whole series packed up to this)")
    max_series_images: int = _f(64, "longer series are cut into random parts of at most this many images")
    stage1_epochs: int = _f(3, "coarse-only epochs before alternating (stage 1)")
    fine_per_coarse: int = _f(1, "stage 2: fine batches per group")
    coarse_per_fine: int = _f(1, "stage 2: coarse batches per group (0 = fine only)")
    flip: bool = _f(False, "random horizontal flip (the same for both images of a pair)")
    rotate: bool = _f(False, "random 90/180/270° rotation, p = 0.5 (same for both images of a pair; changes composition)")
    num_workers: int = _f(4, "DataLoader worker processes (decode + tokenize)")
    val_batch: int = _f(64, "images per validation batch")
    val_all_pairs_max: int = _f(8, "validation scores all pairs of series up to this size, annotated pairs beyond")


@dataclass
class ModelSection:
    """Which model to train and its start weights."""
    model: str = _f("fgaesq-vit-b-16", "model name in the registry (fgaesq.model) or passed to --factory")
    init: str = _f("openai", "start weights: random | openai | openai:PATH | a checkpoint (file, local-dir:, hf-hub:)")
    factory: str | None = _f(None, "'package.module:function' building a custom model (called with name=MODEL)")
    options: list[str] = _f([], "architecture options of a new model, KEY=VALUE with a YAML value (repeatable), "
                            "e.g. technical=2 or 'penalties=[noise, jpeg]' for fgaesq-lite")
    compat: bool | None = _f(None, "compat mode (authors' quirks); default: the model's own setting")
    seq_len: int = _f(512, "DiffToken token budget per image")
    grad_checkpointing: bool = _f(False, "recompute activations in backward (saves GPU memory)")


@dataclass
class LossSection:
    """Loss switches and weights (the ablations)."""
    emd: bool = _f(True, "EMD loss on coarse batches")
    emd_weight: float = _f(1.0, "weight of a coarse batch's EMD loss against a fine batch's RankReg (1 = the paper)")
    listmle: bool = _f(True, "RankReg ListMLE loss on fine batches")
    soft_bt: float = _f(0.0, "weight of the soft Bradley–Terry cross-entropy to pair probabilities (0 = off)")
    align_weight: float = _f(10.0, "λ, CTAlign weight (used only where pairs have texts; 0 = off)")
    temperature: float = _f(1.0, "BT / ListMLE temperature")
    emd_r: float = _f(2.0, "EMD r-norm")
    text_tower: str = _f("openai", "CLIP text tower for CTAlign: openai | PATH to a ViT-B-16 checkpoint | tiny")


@dataclass
class OptimSection:
    """AdamW settings."""
    lr: float = _f(2e-5, "AdamW learning rate (constant)")
    weight_decay: float = _f(5e-5, "AdamW weight decay")
    grad_clip: float | None = _f(None, "gradient-norm clipping (off by default)")


@dataclass
class TrainerSection:
    """Devices, precision, duration, outputs, resume."""
    epochs: int = _f(10, "total epochs (stage 1 + stage 2)")
    max_steps: int = _f(-1, "stop after this many optimizer steps (-1 = no limit)")
    accelerator: str = _f("auto", "auto | cpu | gpu | mps")
    devices: str = _f("auto", "devices per node: auto | N | list like 0,1")
    num_nodes: int = _f(1, "number of nodes (DDP)")
    strategy: str = _f("auto", "auto | ddp | ddp_spawn | …; 'auto' picks DDP when several devices are used")
    precision: str | None = _f(None, "default: bf16-mixed on GPU, 32-true on CPU")
    out_dir: str = _f("runs/fgaesq", "run folder: checkpoints/, logs, best model export")
    resume: str | None = _f(None, "checkpoint to resume from, or 'last' (out_dir/checkpoints/last.ckpt)")
    seed: int = _f(0, "seed of every random draw (schedule, references, tokenization, init)")
    log_every: int = _f(10, "log every N steps")
    ckpt_every_steps: int | None = _f(None, "also checkpoint every N steps (last.ckpt) for mid-epoch resume")
    val_every: int = _f(1, "validate every N epochs")
    select: str = _f("fine", "best-model selection: fine = (Pair + Series)/2, both = (Pair + Series + coarse SRCC)/3 "
                     "(each falls back to the validation data given); coarse = coarse SRCC")
    progress: bool = _f(True, "progress bars")
    deterministic: bool = _f(False, "torch deterministic algorithms")


@dataclass
class TrainConfig:
    """A complete training run configuration."""
    data: DataSection = field(default_factory=DataSection)
    model: ModelSection = field(default_factory=ModelSection)
    loss: LossSection = field(default_factory=LossSection)
    optim: OptimSection = field(default_factory=OptimSection)
    trainer: TrainerSection = field(default_factory=TrainerSection)

    def to_dict(self) -> dict:
        """Nested plain dict (YAML-ready)."""
        return dataclasses.asdict(self)

    def to_yaml(self) -> str:
        """The full configuration as YAML."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False)


SECTIONS = {f.name: f.type for f in dataclasses.fields(TrainConfig)}


def section_fields() -> list[tuple[str, dataclasses.Field]]:
    """(section name, field) for every option."""
    hints = typing.get_type_hints(TrainConfig)
    out = []
    for sec in dataclasses.fields(TrainConfig):
        cls = hints[sec.name]
        sub = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            f.type = sub[f.name]
            out.append((sec.name, f))
    return out


def _coerce(value: Any, tp: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        inner = [a for a in args if a is not type(None)][0]
        return _coerce(value, inner, where)
    if origin is list:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise ValueError(f"{where}: expected a list, got {value!r}")
        return [_coerce(v, args[0], where) for v in value]
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ValueError(f"{where}: expected true/false, got {value!r}")
    if tp in (int, float):
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError(f"{where}: expected a number, got {value!r}")
        try:
            return tp(value)
        except ValueError:
            raise ValueError(f"{where}: expected a number, got {value!r}") from None
    if tp is str:
        return str(value)
    return value


def from_dict(d: dict, base: TrainConfig | None = None) -> TrainConfig:
    """Apply a nested dict (as read from YAML) onto `base` (default: defaults), validating names and types."""
    cfg = base or TrainConfig()
    fields = {(s, f.name): f for s, f in section_fields()}
    for sec, values in (d or {}).items():
        if sec not in SECTIONS:
            raise ValueError(f"unknown config section {sec!r} (sections: {', '.join(SECTIONS)})")
        if not isinstance(values, dict):
            raise ValueError(f"config section {sec!r} must be a mapping")
        for k, v in values.items():
            f = fields.get((sec, k))
            if f is None:
                names = ", ".join(n for s, n in fields if s == sec)
                raise ValueError(f"unknown option {sec}.{k} (known: {names})")
            setattr(getattr(cfg, sec), k, _coerce(v, f.type, f"{sec}.{k}"))
    return cfg


def load_config(path: str | Path | None, overrides: dict[str, Any] | None = None) -> TrainConfig:
    """Defaults, then the YAML file (if any), then flat overrides {field: value} (None = not given)."""
    cfg = TrainConfig()
    if path:
        p = Path(path)
        if not p.is_file():
            raise ValueError(f"{p}: config file not found")
        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as e:
            raise ValueError(f"{p}: not valid YAML ({e})") from None
        if not isinstance(data, dict):
            raise ValueError(f"{p}: the config must be a mapping of sections")
        cfg = from_dict(data, cfg)
    where = {f.name: s for s, f in section_fields()}
    nested: dict[str, dict] = {}
    for k, v in (overrides or {}).items():
        if v is None or (isinstance(v, list | tuple) and not v):
            continue
        nested.setdefault(where[k], {})[k] = list(v) if isinstance(v, tuple) else v
    return from_dict(nested, cfg)
