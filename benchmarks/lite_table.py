"""Print the fgaesq-lite results table: known-order test split + CLIVE validation, beside the ablations.

``python -m benchmarks.lite_table --data benchmarks/known_order/data [--markdown]``

Rows: the shipped fgaesq-lite (trained and used on single-mode views; its pair mode is the same), the same
model given pair crops at inference (DiffToken-like: crops where the pair differs most), a model trained and used
with pair crops (``train_lite --variants full-ref``, when present), the no-RankReg ablation (EMD on CLIVE only)
and the untrained head (random projection + head on the same frozen backbone); all but the pair-crop rows score
in single mode. The known-order benchmark measures ordering by construction (graded degradations of real
photos), not human taste. Descriptors come from the frozen backbone through the LiteInputs cache, i.e. exactly
what the Scorer computes; metrics come from fgaesq.evaluate's runner.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from benchmarks.data_sources import clive_dir
from fgaesq.data.fine import read_jsonl_series
from fgaesq.evaluate.metrics import coarse_metrics
from fgaesq.evaluate.runner import evaluate_fine
from fgaesq.evaluate.table import markdown_table2, table2
from fgaesq.model import Preprocess, load_model
from fgaesq.model.lite import FGAesQLite
from fgaesq.train.lite_inputs import LiteInputs


class CachedScorer:
    """A Scorer over cached frozen-backbone descriptors (same numbers as LiteScorer, computed once)."""

    def __init__(self, model: FGAesQLite, inputs: LiteInputs, name: str) -> None:
        self.model, self.inputs, self.name = model.eval(), inputs, name
        self.preprocess = Preprocess(max_size=model.config.work_size)

    @torch.no_grad()
    def score(self, images) -> np.ndarray:
        d = self.inputs.describe_many([(p, None) for p in images])
        return self.model.forward_desc(d).score.double().numpy()

    @torch.no_grad()
    def score_pairs(self, pairs) -> np.ndarray:
        items = [x for a, b, _ in pairs for x in ((a, b), (b, a))]
        d = self.inputs.describe_many(items)
        return self.model.forward_desc(d).score.double().numpy().reshape(-1, 2)


def clive_val(data: Path) -> tuple[list[Path], list[float]]:
    """The CLIVE images held out for validation (20 % by image, seed 0 — as train_lite)."""
    from benchmarks.known_order.train_lite import clive_split

    _, val = clive_split(data)
    root = clive_dir() / "images"
    return [root / r["image"] for r in val], [float(r["mos"]) for r in val]


def main() -> None:
    """Evaluate and print the table (and write DATA/lite_table.json)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("benchmarks/known_order/data"))
    ap.add_argument("--split", default="test")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--no-pair", action="store_true", help="skip the pair-mode row (slow the first time)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    inputs = LiteInputs(cache_dir=args.data / "cache")
    series = read_jsonl_series(args.data / args.split / "series.jsonl")
    pooled = [dataclasses.replace(s, category="all") for s in series]
    cv_paths, cv_mos = clive_val(args.data)
    models = {"fgaesq-lite": load_model("fgaesq-lite")}
    for variant, label in (("no-rankreg", "w/o RankReg"), ("untrained", "untrained head")):
        models[label] = load_model(args.data / "models" / f"fgaesq-lite-{variant}.safetensors")
    ref_path = args.data / "models" / "fgaesq-lite-full-ref.safetensors"
    if ref_path.is_file():
        models["fgaesq-lite+ref"] = load_model(ref_path)
    rows, overall, coarse = {}, {}, {}
    runs = [("fgaesq-lite", "fgaesq-lite", "single")]
    if not args.no_pair:
        runs.append(("fgaesq-lite + pair crops", "fgaesq-lite", "pair"))
    if "fgaesq-lite+ref" in models and not args.no_pair:
        runs.append(("trained + used with pair crops", "fgaesq-lite+ref", "pair"))
    runs += [("w/o RankReg", "w/o RankReg", "single"), ("untrained head", "untrained head", "single")]
    for row, key, mode in runs:
        scorer = CachedScorer(models[key], inputs, row)
        rows[row], _ = evaluate_fine(scorer, series, mode)
        overall[row] = evaluate_fine(scorer, pooled, mode)[0]["per_category"]["all"]
        coarse[row] = coarse_metrics(scorer.score(cv_paths), cv_mos)
    console = Console(width=200)
    title = f"known-order benchmark, {args.split} split ({len(series)} series) — ordering by construction, not taste"
    for t in table2(rows, title=title):
        console.print(t)
    summary = Table(title="overall (all categories pooled) and CLIVE validation (human MOS)")
    for col in ("Model", "pair Acc", "pair F1", "s-Acc", "s-SRCC", "CLIVE-val SRCC", "CLIVE-val PLCC"):
        summary.add_column(col, justify="right" if col != "Model" else "left")
    for row in rows:
        o, c = overall[row], coarse[row]
        summary.add_row(row, *(f"{o[k]:.3f}" for k in ("acc", "f1", "s_acc", "s_srcc")), f"{c['srcc']:.3f}", f"{c['plcc']:.3f}")
    console.print(summary)
    if args.markdown:
        print(markdown_table2(rows))
        print("\n| Model | pair Acc | pair F1 | s-Acc | s-SRCC | CLIVE-val SRCC | CLIVE-val PLCC |\n|---|---|---|---|---|---|---|")
        for row in rows:
            o, c = overall[row], coarse[row]
            print(f"| {row} | " + " | ".join(f"{o[k]:.3f}" for k in ("acc", "f1", "s_acc", "s_srcc")) + f" | {c['srcc']:.3f} | {c['plcc']:.3f} |")
    (args.data / "lite_table.json").write_text(
        json.dumps({"per_category": rows, "overall": overall, "clive_val": coarse}, indent=1) + "\n"
    )


if __name__ == "__main__":
    main()
