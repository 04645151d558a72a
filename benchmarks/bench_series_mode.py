"""Agreement of series mode with all-pairs ranking (the paper's procedure) on the known-order benchmark.

For each series of the known-order test split, ranks it with all n(n-1)/2 DiffToken pairs (2 forwards per pair,
aggregated as `fgaesq rank --mode pairs` does) and in series mode (n forwards), and prints per model the mean
within-series Spearman correlation between the two score vectors, the share of series whose best image is the
same (top-1), each mode's Spearman against the known order, and the forwards each needed. With ``--ceiling``, all
pairs is run a second time with other random draws, to show how well the paper's procedure agrees with itself.

    python -m benchmarks.known_order.build --out /tmp/known_order        # once
    PYTHONPATH=src python benchmarks/bench_series_mode.py --data /tmp/known_order/test/series.jsonl \\
        --models fgaesq-lite,fgaesq-tiny,fgaesq-vit-b-16 --checkpoint tiny-ft=PATH.safetensors --limit 20

ViT-B/16 and tiny have random weights unless a checkpoint is given (NAME=PATH).
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr

from fgaesq.data.series_jsonl import read_series_jsonl
from fgaesq.rank.aggregate import aggregate_series
from fgaesq.rank.pipeline import series_key


def _scorer(name: str, path: str | None):
    from fgaesq.model import create_model
    from fgaesq.scoring import load_scorer
    from fgaesq.scoring.vit import FGAesQScorer

    if path:
        return load_scorer(path, device="cpu")
    if name == "fgaesq-lite":
        return load_scorer("fgaesq-lite", device="cpu")
    torch.manual_seed(0)
    return FGAesQScorer(create_model(name), name=f"{name} (random init)", device="cpu")


def _rho(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    keep = np.isfinite(a) & np.isfinite(b)
    if keep.sum() < 2:
        return float("nan")
    r = spearmanr(a[keep], b[keep]).statistic
    return float(r) if r == r else 0.0


def _all_pairs(scorer, paths: list, combos: list, key: str) -> np.ndarray:
    """Scores of one series by the paper's procedure: every pair tokenized and scored, aggregated per image."""
    ps = scorer.score_pairs([(paths[i], paths[j], f"{key}_{i + 1}_{j + 1}") for i, j in combos])
    per = {i: [] for i in range(len(paths))}
    for (i, j), (a, b) in zip(combos, ps, strict=True):
        per[i].append(float(a))
        per[j].append(float(b))
    agg = {a.key: a.score for a in aggregate_series(per)}
    return np.array([agg[i] for i in range(len(paths))])


def agreement(scorer, series, *, truth: bool = True, draws: int = 1, ceiling: bool = False) -> dict:
    """Mean Spearman(series, pairs), top-1 agreement, Spearman of each against the known order, forwards.

    With ``ceiling``, also the Spearman of all pairs with itself under other random draws ("rho_self").
    """
    rows = {"rho": [], "top1": [], "truth_pairs": [], "truth_series": [], "rho_self": []}
    fwd = {"pairs": 0, "series": 0}
    t_pairs = t_series = 0.0
    for s in series:
        paths = list(s.images)
        n = len(paths)
        if n < 2:
            continue
        combos = list(itertools.combinations(range(n), 2))
        t0 = time.perf_counter()
        pairs_scores = _all_pairs(scorer, paths, combos, s.series)
        t_pairs += time.perf_counter() - t0
        if ceiling:  # all pairs again with other random draws: how well the paper's procedure agrees with itself
            rows["rho_self"].append(_rho(_all_pairs(scorer, paths, combos, f"{s.series}#redraw"), pairs_scores))
        t0 = time.perf_counter()
        runs = scorer.score_series([(paths, series_key(paths) + (f"#{r}" if r else "")) for r in range(draws)])
        series_scores = np.mean(runs, axis=0)
        t_series += time.perf_counter() - t0
        fwd["pairs"] += 2 * len(combos)
        fwd["series"] += n * draws
        rows["rho"].append(_rho(series_scores, pairs_scores))
        rows["top1"].append(float(np.argmax(series_scores) == np.argmax(pairs_scores)))
        if truth:  # the known quality level of each image (higher = better)
            level = np.asarray(s.levels(), dtype=np.float64)
            rows["truth_pairs"].append(_rho(pairs_scores, level))
            rows["truth_series"].append(_rho(series_scores, level))
    out = {k: float(np.nanmean(v)) if v else float("nan") for k, v in rows.items()}
    out.update(series=len(rows["rho"]), fwd_pairs=fwd["pairs"], fwd_series=fwd["series"], t_pairs=t_pairs,
               t_series=t_series)
    return out


def main() -> None:
    """Print the agreement table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="series.jsonl of the known-order benchmark")
    ap.add_argument("--models", default="fgaesq-lite,fgaesq-tiny")
    ap.add_argument("--checkpoint", action="append", default=[], help="NAME=PATH: also a checkpoint of your own")
    ap.add_argument("--limit", type=int, default=0, help="first N series only (0 = all)")
    ap.add_argument("--draws", default="1", help="comma list: series-mode runs averaged per image (seeds differ)")
    ap.add_argument("--ceiling", action="store_true",
                    help="also rank all pairs a second time with other random draws: rho(pairs, pairs') is the "
                         "agreement the paper's procedure has with itself (its own draw noise)")
    ap.add_argument("--limit-vit", type=int, default=6, help="series for ViT-B/16 on the CPU (its forwards are slow)")
    args = ap.parse_args()
    series = read_series_jsonl(args.data)
    if args.limit:
        series = series[: args.limit]
    runs = [(m, None) for m in args.models.split(",") if m] + [tuple(c.split("=", 1)) for c in args.checkpoint]
    print(f"{len(series)} known-order series from {args.data}")
    print(f"{'model':34s} {'series':>6s} {'rho(series,pairs)':>18s} {'top-1 same':>10s} {'rho truth: pairs':>17s} "
          f"{'series':>7s} {'fwd pairs':>9s} {'fwd series':>10s} {'s pairs':>8s} {'s series':>8s}"
          + (f" {'rho(pairs,pairs redrawn)':>24s}" if args.ceiling else ""))
    for name, path in runs:
        subset = series[: args.limit_vit] if name == "fgaesq-vit-b-16" and not path else series
        for draws in map(int, args.draws.split(",")):
            r = agreement(_scorer(name, path), subset, draws=draws, ceiling=args.ceiling)
            label = name if draws == 1 else f"{name} x{draws} draws"
            print(f"{label:34s} {r['series']:6d} {r['rho']:18.3f} {r['top1']:10.2f} {r['truth_pairs']:17.3f} "
                  f"{r['truth_series']:7.3f} {r['fwd_pairs']:9d} {r['fwd_series']:10d} {r['t_pairs']:8.1f} "
                  f"{r['t_series']:8.1f}" + (f" {r['rho_self']:24.3f}" if args.ceiling else ""), flush=True)


if __name__ == "__main__":
    main()
