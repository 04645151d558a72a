"""Train fgaesq-lite (and its ablations) on cached descriptors with the training losses of fgaesq.train.

``python -m benchmarks.known_order.train_lite --data benchmarks/known_order/data``

- coarse branch: CLIVE human scores (labels.csv, MOS 0-100 → 10-bin Gaussian by fgaesq.data's CLIVE rule), EMD;
  20 % of the CLIVE images held out by image (seed 0) for validation; CLIVE photos that are sources of benchmark
  val/test series are also kept out of training;
- fine branch: the benchmark's train series, RankReg (ListMLE over each series' scores in ground-truth order);
- schedule: stage 1 coarse only, stage 2 strict 1:1 alternation of coarse and fine batches (method.md §9.3);
- the backbone is frozen, so descriptors are computed once (LiteInputs cache) and only projection + head train;
- model selection: the epoch with the best validation (Pair + Series)/2 on the benchmark's val split.

Variants: ``full`` (EMD + RankReg, shipped), ``no-rankreg`` (EMD only), ``untrained`` (random head, seed 0).
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

import numpy as np
import torch

from fgaesq.data.coarse import read_coarse_csv
from fgaesq.evaluate.metrics import PairScore, SeriesScores, coarse_metrics, fine_metrics
from fgaesq.evaluate.series import Series, read_series_jsonl
from fgaesq.model.lite import WEIGHTS_DIR, FGAesQLite, LiteInputs
from fgaesq.paths import shared_dir
from fgaesq.train.losses import LossWeights, emd_loss, listmle_loss, total_loss

SEED = 0
CLIVE_VAL_SHARE = 0.2


def clive_split(data: Path) -> tuple[list, list]:
    """CLIVE coarse records split 80/20 by image (seed 0); benchmark val/test source photos left out of train."""
    clive = shared_dir() / "data" / "clive"
    records = read_coarse_csv(clive / "labels.csv", clive / "images")
    with (clive / "labels.csv").open(newline="") as fh:
        mos = {r["image"]: float(r["mos"]) for r in csv.DictReader(fh)}
    perm = np.random.default_rng(SEED).permutation(len(records))
    n_val = int(round(CLIVE_VAL_SHARE * len(records)))
    val_idx = set(perm[:n_val].tolist())
    manifest = json.loads((data / "manifest.json").read_text())
    held = {s["id"].split("/", 1)[1] for s in manifest["sources"] if s["origin"] == "clive" and s["split"] != "train"}
    train = [r for i, r in enumerate(records) if i not in val_idx and r.image.name not in held]
    val = [r for i, r in enumerate(records) if i in val_idx]
    return [(r, mos[r.image.name]) for r in train], [(r, mos[r.image.name]) for r in val]


class Cached:
    """Descriptors of every training/validation input, from the LiteInputs cache."""

    def __init__(self, data: Path) -> None:
        self.inputs = LiteInputs(cache_dir=data / "cache")

    def single(self, paths: list[Path]) -> torch.Tensor:
        return self.inputs.describe_many([(p, None) for p in paths])


def fine_scores(model: FGAesQLite, series: list[Series], desc: dict[Path, torch.Tensor]) -> list[SeriesScores]:
    """Single-mode SeriesScores from cached descriptors."""
    out = []
    with torch.no_grad():
        for s in series:
            sc = model.forward_desc(torch.stack([desc[p] for p in s.paths])).score.double().numpy()
            idx = {n: i for i, n in enumerate(s.names)}
            ps = tuple(PairScore(float(sc[idx[a]]), float(sc[idx[b]]), p) for a, b, p in s.pairs)
            out.append(SeriesScores(s.series, s.category, s.names, tuple(map(float, sc)), s.pairs, ps))
    return out


def ranking_order(s: Series) -> list[int]:
    """Indices of the series' images, best first (ground-truth net preference, ties by name)."""
    g = {n: 0.0 for n in s.names}
    for a, b, p in s.pairs:
        g[a] += p - 0.5
        g[b] += 0.5 - p
    names = sorted(s.names, key=lambda n: (-g[n], n))
    return [s.names.index(n) for n in names]


def train_variant(variant: str, args, data: dict) -> tuple[FGAesQLite, dict]:
    """Train one variant; returns the selected model and its history."""
    torch.manual_seed(SEED)
    model = FGAesQLite()
    model.desc_mean.copy_(data["norm_mean"])
    model.desc_std.copy_(data["norm_std"])
    history: list[dict] = []
    if variant == "untrained":
        return model.eval(), {"epochs": 0, "history": history}
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=args.wd)
    weights = LossWeights(emd=True, listmle=variant == "full", align=0.0)
    rng = np.random.default_rng(SEED)
    cx, cy = data["coarse_x"], data["coarse_y"]
    fine = data["train_series"]
    best, best_state = -1.0, None
    for epoch in range(args.epochs):
        model.train()
        coarse_perm = rng.permutation(len(cx))
        coarse_batches = [coarse_perm[i : i + args.coarse_batch] for i in range(0, len(cx), args.coarse_batch)]
        if epoch < args.stage1_epochs or variant != "full":
            steps = [("coarse", b) for b in coarse_batches]
        else:
            fperm = rng.permutation(len(fine)).tolist()
            fine_batches, cur, n_img = [], [], 0
            for i in fperm:  # whole series until ~64 images
                cur.append(i)
                n_img += len(fine[i].paths)
                if n_img >= args.fine_images:
                    fine_batches.append(cur)
                    cur, n_img = [], 0
            if cur:
                fine_batches.append(cur)
            steps = []
            for k, fb in enumerate(fine_batches):  # strict 1:1 alternation
                steps.append(("fine", fb))
                steps.append(("coarse", coarse_batches[k % len(coarse_batches)]))
        losses = []
        for kind, idx in steps:
            if kind == "coarse":
                out = model.forward_desc(cx[idx])
                loss = total_loss({"emd": emd_loss(out.logits, cy[idx])}, fine=False, w=weights)
            else:
                xs, orders, off = [], [], 0
                for i in idx:
                    s = fine[i]
                    xs.append(torch.stack([data["desc"][p] for p in s.paths]))
                    orders.append(torch.tensor([off + j for j in ranking_order(s)]))
                    off += len(s.paths)
                out = model.forward_desc(torch.cat(xs))
                loss = total_loss({"listmle": listmle_loss(out.score, orders)}, fine=True, w=weights)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss))
        model.eval()
        val = fine_metrics(fine_scores(model, data["val_series"], data["desc"]))
        with torch.no_grad():
            cv = coarse_metrics(model.forward_desc(data["clive_val_x"]).score.double().numpy(), data["clive_val_mos"])
        sel = (val["summary"]["pair"] + val["summary"]["series"]) / 2
        history.append({"epoch": epoch, "loss": float(np.mean(losses)), "val_pair": val["summary"]["pair"],
                        "val_series": val["summary"]["series"], "clive_val_srcc": cv["srcc"]})  # fmt: skip
        print(f"{variant} epoch {epoch}: loss {np.mean(losses):.4f} val Pair {val['summary']['pair']:.3f} "
              f"Series {val['summary']['series']:.3f} CLIVE-val SRCC {cv['srcc']:.3f}", flush=True)  # fmt: skip
        if sel > best:
            best, best_state = sel, {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best_state)
    chosen = max(history, key=lambda h: (h["val_pair"] + h["val_series"]) / 2)
    return model.eval(), {"epochs": args.epochs, "selected_epoch": chosen["epoch"], "history": history}


def load_data(root: Path) -> dict:
    """Descriptors and labels for training and validation."""
    cache = Cached(root)
    clive_train, clive_val = clive_split(root)
    train_series = read_series_jsonl(root / "train" / "series.jsonl")
    val_series = read_series_jsonl(root / "val" / "series.jsonl")
    paths = sorted({p for s in train_series + val_series for p in s.paths})
    t0 = time.time()
    desc = dict(zip(paths, cache.single(paths), strict=True))
    coarse_x = cache.single([r.image for r, _ in clive_train])
    clive_val_x = cache.single([r.image for r, _ in clive_val])
    print(f"descriptors ready in {time.time() - t0:.0f} s", flush=True)
    fine_x = torch.stack([desc[p] for s in train_series for p in s.paths])
    both = torch.cat([coarse_x, fine_x])
    return {
        "desc": desc,
        "coarse_x": coarse_x,
        "coarse_y": torch.from_numpy(np.stack([r.dist for r, _ in clive_train])).float(),
        "clive_val_x": clive_val_x,
        "clive_val_mos": [m for _, m in clive_val],
        "train_series": train_series,
        "val_series": val_series,
        "norm_mean": both.mean(0),
        "norm_std": both.std(0).clamp_min(1e-4),
        "counts": {"clive_train": len(clive_train), "clive_val": len(clive_val), "train_series": len(train_series),
                   "train_images": len(fine_x), "val_series": len(val_series)},  # fmt: skip
    }


def main() -> None:
    """Train the three variants; ship `full` into the package, keep the others under DATA/models."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("benchmarks/known_order/data"))
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--stage1-epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--wd", type=float, default=0.05)
    ap.add_argument("--coarse-batch", type=int, default=64)
    ap.add_argument("--fine-images", type=int, default=64)
    ap.add_argument("--variants", nargs="*", default=["full", "no-rankreg", "untrained"])
    ap.add_argument("--no-ship", action="store_true", help="do not write the shipped weights into the package")
    args = ap.parse_args()
    torch.set_num_threads(1)
    data = load_data(args.data)
    print(json.dumps(data["counts"]))
    (args.data / "models").mkdir(exist_ok=True)
    for variant in args.variants:
        t0 = time.time()
        model, info = train_variant(variant, args, data)
        model.config.extra = {
            "variant": variant,
            "trained_with": "benchmarks/known_order/train_lite.py (fgaesq.train.losses: emd_loss, listmle_loss, total_loss)",
            "hyper": {k: v for k, v in vars(args).items() if k not in ("data", "variants", "no_ship")},
            "data": data["counts"],
            "selected_epoch": info.get("selected_epoch"),
            "train_seconds": round(time.time() - t0, 1),
        }
        out = args.data / "models" / f"fgaesq-lite-{variant}.safetensors"
        model.save_pretrained(out, half=False)
        (out.with_suffix(".history.json")).write_text(json.dumps(info, indent=1))
        if variant == "full" and not args.no_ship:
            WEIGHTS_DIR.mkdir(exist_ok=True)
            model.save_pretrained(WEIGHTS_DIR / "fgaesq-lite.safetensors", half=False)
        print(f"{variant}: wrote {out} ({time.time() - t0:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
