"""Faster number formats against float32: how far scores move and whether rankings within a series change.

For each model, scores every image of the known-order series in float32 (torch, the reference) and with each
faster variant — ONNX Runtime fp32 and int8 for every model, bf16 autocast on the CPU for the DiffToken models —
and prints per variant: max |Δscore|, the mean within-series Spearman against float32, the share of series with
the same best image, the Spearman of each against the known order, and the CPU time of the scoring.

    python -m benchmarks.known_order.build --out /tmp/known_order        # once
    PYTHONPATH=src python benchmarks/bench_precision.py --data /tmp/known_order/test/series.jsonl \\
        --models fgaesq-lite,fgaesq-vit-b-16 --limit-vit 8

Single-mode scores (the format changes the network, not the tokens). ViT-B/16 has random weights unless
--checkpoint NAME=PATH is given: its scores then span ~1e-3 within a series, so its Spearman figures say how
much the format perturbs a network with no notion of quality, a lower bound; fgaesq-lite is a trained model.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fgaesq.data.series_jsonl import read_series_jsonl  # noqa: E402


def _rho(a, b) -> float:
    r = spearmanr(np.asarray(a, np.float64), np.asarray(b, np.float64)).statistic
    return float(r) if r == r else 0.0


def _variants(name: str, path: str | None):
    """(label, scorer) for float32 first, then each faster format this model supports."""
    from fgaesq.model import create_model
    from fgaesq.scoring import load_scorer
    from fgaesq.scoring.vit import FGAesQScorer

    def make(**kw):
        if path or name == "fgaesq-lite":
            return load_scorer(path or name, device="cpu", **kw)
        torch.manual_seed(0)
        return FGAesQScorer(create_model(name), name=name, device="cpu", **kw)

    yield "float32 (torch)", make()
    if name != "fgaesq-lite":
        yield "bf16 autocast (torch)", make(precision="bf16")
    yield "ONNX Runtime fp32", make(backend="onnx")
    yield "ONNX Runtime int8", make(backend="onnx", int8=True)


def main() -> None:
    """Print the table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="series.jsonl of the known-order benchmark")
    ap.add_argument("--models", default="fgaesq-lite,fgaesq-vit-b-16")
    ap.add_argument("--checkpoint", action="append", default=[], help="NAME=PATH: a checkpoint of your own")
    ap.add_argument("--limit", type=int, default=0, help="first N series only (0 = all)")
    ap.add_argument("--limit-vit", type=int, default=8, help="series for random-init ViT-B/16 (slow on the CPU)")
    args = ap.parse_args()
    series = [s for s in read_series_jsonl(args.data) if len(s.images) >= 2]
    if args.limit:
        series = series[: args.limit]
    runs = [(m, None) for m in args.models.split(",") if m] + [tuple(c.split("=", 1)) for c in args.checkpoint]
    print(f"{len(series)} known-order series from {args.data}, {torch.get_num_threads()} threads")
    print(f"{'model':18s} {'format':24s} {'series':>6s} {'max|d score|':>12s} {'rho vs fp32':>11s} "
          f"{'top-1 same':>10s} {'rho truth':>9s} {'CPU s':>7s}")
    for name, path in runs:
        subset = series[: args.limit_vit] if name == "fgaesq-vit-b-16" and not path else series
        paths = [p for s in subset for p in s.images]
        ref = None
        for label, scorer in _variants(name, path):
            scorer.score(paths[:2])  # warm-up (export, compilation)
            c0 = time.process_time()
            flat = scorer.score(paths)
            cpu = time.process_time() - c0
            per, i = [], 0
            for s in subset:
                per.append(flat[i : i + len(s.images)])
                i += len(s.images)
            if ref is None:
                ref, ref_flat = per, flat
            truth = np.mean([_rho(p, s.levels()) for p, s in zip(per, subset, strict=True)])
            rho = np.mean([_rho(p, r) for p, r in zip(per, ref, strict=True)])
            top1 = np.mean([float(np.argmax(p) == np.argmax(r)) for p, r in zip(per, ref, strict=True)])
            print(f"{name:18s} {label:24s} {len(subset):6d} {np.abs(flat - ref_flat).max():12.2e} {rho:11.3f} "
                  f"{top1:10.2f} {truth:9.3f} {cpu:7.1f}", flush=True)


if __name__ == "__main__":
    main()
