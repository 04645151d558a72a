"""Recovery of known true orders from simulated noisy annotators, at 3, 5 and 10 votes per pair.

Run:  PYTHONPATH=src python benchmarks/bench_calibrate.py [--series 300] [--seed 0]

Prints, per annotator model and votes per pair: exact-order rate (calibrated ranking == true order),
mean Kendall tau, share of pairs kept (|P − 0.5| ≥ 0.1), accuracy of the kept pairs' direction, and
whether an injected random annotator is flagged / a good annotator wrongly flagged.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.stats import kendalltau

from fgaesq.calibrate.calibration import CalibrationSettings, calibrate_votes
from fgaesq.calibrate.simulate import SimAnnotator, make_orders, simulate_votes


def recovery(orders: dict[str, list[str]], votes) -> dict:
    """Exact-order rate, mean Kendall tau, kept-pair share and accuracy, careless flags."""
    res = calibrate_votes(votes, CalibrationSettings())
    exact, taus, kept, correct, judged = 0, [], 0, 0, 0
    for s in res.series:
        truth = orders[s.series]
        pos = {m: k for k, m in enumerate(truth)}
        exact += s.ranking == truth
        taus.append(kendalltau([pos[m] for m in s.ranking], range(len(truth))).statistic)
        judged += len(s.pairs)
        for p in s.kept_pairs:
            kept += 1
            correct += pos[p.a] < pos[p.b]
    return {
        "exact": exact / len(res.series),
        "tau": float(np.mean(taus)),
        "kept": kept / judged,
        "kept_acc": correct / max(kept, 1),
        "flagged": [a.annotator for a in res.annotators if a.careless],
    }


def main() -> None:
    """Print the recovery table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    models = {
        "BT spacing 1.0 (neighbours 73 %)": [SimAnnotator(f"bt{k}", "bt", spacing=1.0) for k in range(12)],
        "flip error 0.2": [SimAnnotator(f"flip{k}", "flip", error=0.2) for k in range(12)],
        "flip 0.2 + 1 random annotator": [SimAnnotator(f"flip{k}", "flip", error=0.2) for k in range(11)]
        + [SimAnnotator("careless", "random")],
    }
    print(f"series: {args.series}, sizes 2-6 images (uniform), all C(n,2) pairs judged, seed {args.seed}")
    print(f"{'annotators':34s} {'votes/pair':>10s} {'exact':>7s} {'tau':>6s} {'kept':>6s} {'kept acc':>8s}  flagged")
    for label, anns in models.items():
        for k in (3, 5, 10):
            rng = np.random.default_rng(args.seed)
            orders = make_orders(args.series, [2, 3, 4, 5, 6], rng)
            votes = simulate_votes(orders, anns, k, rng)
            t0 = time.perf_counter()
            r = recovery(orders, votes)
            dt = time.perf_counter() - t0
            print(
                f"{label:34s} {k:10d} {r['exact']:7.3f} {r['tau']:6.3f} {r['kept']:6.3f} {r['kept_acc']:8.3f}  "
                f"{','.join(r['flagged']) or '-'}   ({len(votes)} votes, {dt:.2f} s)"
            )


if __name__ == "__main__":
    main()
