"""Train fgaesq-lite and its ablations with the project's training pipeline (`fgaesq.train`, Lightning).

``python -m benchmarks.known_order.train_lite --data benchmarks/known_order/native``

- coarse branch: CLIVE human scores (MOS 0–100 → 10-bin Gaussian by fgaesq.data's CLIVE rule), EMD; 20 % of the
  CLIVE images held out by image (seed 0) for validation; CLIVE photos that are sources of benchmark val/test
  series are also kept out of training;
- fine branch: the benchmark's train series, RankReg (ListMLE over each series in ground-truth order);
- schedule, optimiser, validation (paper metrics on the val series) and best-model selection: `fgaesq train`,
  with the run config benchmarks/known_order/lite_run.yaml;
- the backbone is frozen, so its descriptors are cached (FGAESQ_LITE_CACHE = DATA/cache) and only the
  projection + head train: a few minutes on a laptop CPU.

Variants: ``full`` (EMD + RankReg, shipped), ``no-rankreg`` (same run with --no-listmle), ``untrained`` (random
head, standardisation from the training descriptors), ``full-ref`` (as ``full`` but fine items are viewed
against a reference image of their series in training and validation: the DiffToken-like variant; needs pair
descriptors, ``cache_descriptors --pairs train val``), ``no-mate`` (as ``full`` without any series made from
the mate-backgrounds photos: the held-out-source generalisation figure).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import time
from pathlib import Path

import torch

from benchmarks.data_sources import clive_dir
from benchmarks.known_order.sources import clive_val_names
from fgaesq.model import create_model, load_model, save_checkpoint
from fgaesq.model.lite import FGAesQLite
from fgaesq.model.lite.technical import PENALTY_SETS
from fgaesq.model.loading import WEIGHTS_DIR
from fgaesq.train.lite_inputs import LiteInputs

SEED = 0
CLIVE_VAL_SHARE = 0.2
CONFIG = Path(__file__).with_name("lite_run.yaml")
DEFAULT_DATA = Path("benchmarks/known_order/native")


def clive_split(data: Path) -> tuple[list[dict], list[dict]]:
    """CLIVE label rows split 80/20 by image (seed 0); benchmark val/test source photos left out of train."""
    with (clive_dir() / "labels.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    val_names = clive_val_names(SEED, CLIVE_VAL_SHARE)
    manifest = json.loads((data / "manifest.json").read_text())
    held = {s["id"].split("/", 1)[1] for s in manifest["sources"] if s["origin"] == "clive" and s["split"] != "train"}
    train = [r for r in rows if r["image"] not in val_names and r["image"] not in held]
    val = [r for r in rows if r["image"] in val_names]
    return train, val


def write_clive_csvs(data: Path) -> dict:
    """DATA/clive_train.csv and DATA/clive_val.csv (image,mos,mos_std)."""
    train, val = clive_split(data)
    for name, rows in (("clive_train.csv", train), ("clive_val.csv", val)):
        with (data / name).open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=["image", "mos", "mos_std"])
            w.writeheader()
            w.writerows(rows)
    return {"clive_train": len(train), "clive_val": len(val)}


def _without(jsonl: Path, source_prefix: str) -> Path:
    """A copy of a series file (beside it, same relative image paths) without the series of one source set."""
    out = jsonl.with_name(f"{jsonl.stem}-no-{source_prefix.strip('/')}.jsonl")
    lines = [ln for ln in jsonl.read_text().splitlines() if not json.loads(ln)["source"].startswith(source_prefix)]
    out.write_text("".join(ln + "\n" for ln in lines))
    return out


#: create_model keyword arguments of `lite_variant` (set by run_variant; the run is in this process)
VARIANT_KW: dict = {}


def lite_variant(name: str = "fgaesq-lite"):
    """`model.factory` of runs with other architecture options (``--feature-dim``, ``--technical``):
    fgaesq-lite built with VARIANT_KW, trained from random like the default."""
    return create_model(name, **VARIANT_KW)


#: train_lite flags that set one option of the run config: flag name -> (config section, option)
CONFIG_FLAGS = {
    "epochs": ("trainer", "epochs"), "lr": ("optim", "lr"), "weight_decay": ("optim", "weight_decay"),
    "coarse_per_fine": ("data", "coarse_per_fine"), "fine_per_coarse": ("data", "fine_per_coarse"),
    "seed": ("trainer", "seed"), "temperature": ("loss", "temperature"), "emd_weight": ("loss", "emd_weight"),
    "select": ("trainer", "select"),
}  # fmt: skip


def run_variant(
    variant: str,
    data: Path,
    overrides: dict | None = None,
    tag: str = "",
    technical: int | None = None,
    feature_dim: int | None = None,
    desc_dropout: float | None = None,
    penalties: tuple[str, ...] | None = None,
    penalty_init: float | None = None,
    penalty_from: str | None = None,
) -> Path:
    """One `fgaesq train` run; returns the exported best model. ``overrides``: {CONFIG_FLAGS name: value}
    (None = the config's value)."""
    from fgaesq.train.config import load_config
    from fgaesq.train.run import train

    cfg = load_config(CONFIG)
    cfg.loss.listmle = variant in ("full", "full-ref", "no-mate")
    if variant == "full-ref":
        cfg.model.model = "fgaesq-lite+ref"  # fine items viewed against a reference of their series
    cfg.trainer.out_dir = str(data / "runs" / (variant + tag))
    for name, value in (overrides or {}).items():
        if value is not None:
            section, option = CONFIG_FLAGS[name]
            setattr(getattr(cfg, section), option, value)
    arch = {k: v for k, v in (("technical", technical), ("feature_dim", feature_dim), ("desc_dropout", desc_dropout),
                              ("penalties", penalties), ("penalty_init", penalty_init),
                              ("penalty_from", penalty_from)) if v is not None}  # fmt: skip
    if arch:  # e.g. the ablation technical = 0: the same data and schedule without the technical block
        VARIANT_KW.clear()
        VARIANT_KW.update(arch)
        cfg.model.factory = f"{__name__}:lite_variant"
    if data != DEFAULT_DATA:
        cfg.data.coarse_train, cfg.data.coarse_val = str(data / "clive_train.csv"), str(data / "clive_val.csv")
        cfg.data.fine_train, cfg.data.fine_val = [str(data / "train/series.jsonl")], [str(data / "val/series.jsonl")]
    if variant == "no-mate":  # held-out source: no series of a mate-backgrounds photo in training or selection
        cfg.data.fine_train = [str(_without(Path(f), "mate/")) for f in cfg.data.fine_train]
        cfg.data.fine_val = [str(_without(Path(f), "mate/")) for f in cfg.data.fine_val]
    cfg.data.coarse_images = str(clive_dir() / "images")
    if (data / "runs" / (variant + tag)).exists():
        shutil.rmtree(data / "runs" / (variant + tag))
    result = train(cfg)
    print(variant, {k: round(v, 4) for k, v in result["metrics"].items() if k.startswith("val/") and k.count("/") == 1})
    return Path(result["exported"])


def untrained(data: Path) -> FGAesQLite:
    """Random projection + head (seed 0) standardised on the training descriptors: the no-training baseline."""
    inputs = LiteInputs(cache_dir=data / "cache")
    clive = clive_dir() / "images"
    train, _ = clive_split(data)
    paths = [clive / r["image"] for r in train]
    for line in (data / "train" / "series.jsonl").read_text().splitlines():
        paths += [data / "train" / p for p in json.loads(line)["images"]]
    torch.manual_seed(SEED)
    model = create_model("fgaesq-lite")
    model.set_normalisation(inputs.describe_many([(p, None) for p in paths]))
    return model.eval()


def main() -> None:
    """Train `full` and `no-rankreg`, build `untrained`; ship `full` into the package."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--epochs", type=int, default=None, help="override the config's epochs")
    ap.add_argument("--lr", type=float, default=None, help="override the config's learning rate")
    ap.add_argument("--coarse-per-fine", type=int, default=None, help="override the config's coarse batches per fine batch")
    ap.add_argument("--weight-decay", type=float, default=None, help="override the config's AdamW weight decay")
    ap.add_argument("--seed", type=int, default=None, help="override the run's seed (head init, batch order)")
    ap.add_argument("--temperature", type=float, default=None, help="override the ListMLE temperature")
    ap.add_argument("--feature-dim", type=int, default=None, help="width of the feature fed to the head (512)")
    ap.add_argument("--select", choices=("fine", "both", "coarse"), default=None,
                    help="best-epoch rule (fgaesq train --select; default fine)")
    ap.add_argument("--emd-weight", type=float, default=None, help="override the EMD weight of coarse batches")
    ap.add_argument("--fine-per-coarse", type=int, default=None, help="override the config's fine batches per group")
    ap.add_argument("--technical", type=int, choices=(0, 1, 2, 3), default=None,
                    help="technical block version: 0 = none (ablation), 2 = with flat-window noise, 3 = 2 + "
                    "the JPEG quantisation step (default: the model's default, 1)")
    ap.add_argument("--desc-dropout", type=float, default=None,
                    help="training dropout on the backbone statistics of the descriptor (default 0)")
    ap.add_argument("--penalties", nargs="*", default=None, choices=tuple(PENALTY_SETS),
                    help="technical measurements that may only lower the score (model.lite.technical.PENALTY_SETS)")
    ap.add_argument("--penalty-init", type=float, default=None, help="starting weight of each penalty (0.125)")
    ap.add_argument("--penalty-from", choices=("all", "fine"), default=None,
                    help="batches that train the penalty weights (default all; fine: within-series batches only)")
    ap.add_argument("--tag", default="", help="suffix of the run folder and model file (tries beside the default)")
    ap.add_argument("--variants", nargs="*", default=["full", "no-rankreg", "untrained"])
    ap.add_argument("--no-ship", action="store_true", help="do not write the shipped weights into the package")
    args = ap.parse_args()
    torch.set_num_threads(1)
    os.environ["FGAESQ_LITE_CACHE"] = str(args.data / "cache")
    counts = write_clive_csvs(args.data)
    print(json.dumps(counts))
    models = args.data / "models"
    models.mkdir(exist_ok=True)
    flags = {name: getattr(args, name) for name in CONFIG_FLAGS}
    penalties = tuple(args.penalties) if args.penalties else None  # set names: LiteConfig makes them columns
    for variant in args.variants:
        t0 = time.time()
        out = models / f"fgaesq-lite-{variant}{args.tag}.safetensors"
        if variant == "untrained":
            model = untrained(args.data)
        else:
            model = load_model(run_variant(variant, args.data, flags, args.tag, args.technical, args.feature_dim,
                                           args.desc_dropout, penalties, args.penalty_init, args.penalty_from))
        model.config.extra = {
            "variant": variant,
            "trained_with": "fgaesq train (Lightning) with benchmarks/known_order/lite_run.yaml"
            if variant != "untrained"
            else "not trained (random head, seed 0)",
            "data": counts,
            "seconds": round(time.time() - t0, 1),
        }
        overrides = {**flags, "technical": args.technical, "feature_dim": args.feature_dim,
                     "desc_dropout": args.desc_dropout, "penalties": args.penalties, "penalty_init": args.penalty_init,
                     "penalty_from": args.penalty_from}
        if any(v is not None for v in overrides.values()):
            model.config.extra["overrides"] = overrides
        save_checkpoint(model, out)
        if variant == "full" and not args.no_ship:  # only the head: the backbone comes from its pip package
            save_checkpoint(model, WEIGHTS_DIR / "fgaesq-lite.safetensors")
        print(f"{variant}: wrote {out} ({time.time() - t0:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
