"""Per-series view of why series mode agrees (or not) with all pairs: score spread within a series vs draw noise.

For each series: pairs scores (draw A), pairs scores again with other draws (B), series-mode scores (1 draw).
spread = std over images of pairs scores A; noise = std over images of (A - B)/sqrt(2) (one draw's noise);
shift = std over images of (series - A) minus its mean (how much series mode moves images against each other).
snr = spread / noise. Prints mean rho(series,pairs), rho(A,B) and truth per snr tercile and per category.

    PYTHONPATH=src python benchmarks/series_mode_snr.py DATA/test/series.jsonl CKPT.safetensors [LIMIT [OUT.json]]
"""
import itertools
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_series_mode import _all_pairs, _rho, _scorer
from scipy.stats import spearmanr

from fgaesq.data.series_jsonl import read_series_jsonl
from fgaesq.rank.pipeline import series_key

data, ckpt = sys.argv[1], sys.argv[2]
limit = int(sys.argv[3]) if len(sys.argv) > 3 else 0
series = read_series_jsonl(data)
series = series[:limit] if limit else series
sc = _scorer("mine", ckpt)
rows = []
for s in series:
    paths = list(s.images)
    n = len(paths)
    combos = list(itertools.combinations(range(n), 2))
    a = _all_pairs(sc, paths, combos, s.series)
    b = _all_pairs(sc, paths, combos, f"{s.series}#redraw")
    ser = np.asarray(sc.score_series([(paths, series_key(paths))])[0])
    lv = np.asarray(s.levels(), dtype=float)
    # series-vs-pairs shift of each image, net of the common offset
    shift = (ser - a) - np.mean(ser - a)
    rows.append(dict(n=n, cat=s.category, spread=float(np.std(a)), noise=float(np.std(a - b) / np.sqrt(2)),
                     shift=float(np.std(shift)), rho_sp=_rho(ser, a), rho_ab=_rho(a, b), truth=_rho(a, lv),
                     mean_pairs=float(np.mean(a)), mean_series=float(np.mean(ser))))
R = {k: np.array([r[k] for r in rows]) for k in rows[0] if k != "cat"}
snr = R["spread"] / np.maximum(R["noise"], 1e-9)
print(f"{len(rows)} series; median spread {np.median(R['spread']):.4f}, median draw noise {np.median(R['noise']):.4f}, "
      f"median series-vs-pairs shift {np.median(R['shift']):.4f}, median snr {np.median(snr):.2f}; "
      f"mean offset series-pairs {np.mean(R['mean_series']-R['mean_pairs']):+.4f}")
q = np.quantile(snr, [1/3, 2/3])
for name, m in [("low snr", snr <= q[0]), ("mid snr", (snr > q[0]) & (snr <= q[1])), ("high snr", snr > q[1])]:
    print(f"{name:9s} n={m.sum():3d} snr {np.median(snr[m]):6.2f}  rho(series,pairs) {np.nanmean(R['rho_sp'][m]):.3f}  "
          f"rho(pairs,redrawn) {np.nanmean(R['rho_ab'][m]):.3f}  truth {np.nanmean(R['truth'][m]):.3f}")
r_sp = spearmanr(snr, R["rho_sp"], nan_policy="omit").statistic
r_ab = spearmanr(snr, R["rho_ab"], nan_policy="omit").statistic
print(f"spearman over series: snr vs rho(series,pairs) {r_sp:.3f}; snr vs rho(pairs,redrawn) {r_ab:.3f}")
cats = sorted({r["cat"] for r in rows})
for c in cats:
    m = np.array([r["cat"] == c for r in rows])
    print(f"  {c:9s} n={m.sum():2d} snr {np.median(snr[m]):6.2f} rho_sp {np.nanmean(R['rho_sp'][m]):.3f} rho_ab {np.nanmean(R['rho_ab'][m]):.3f} truth {np.nanmean(R['truth'][m]):.3f}")
if len(sys.argv) > 4:  # per-series rows as JSON
    Path(sys.argv[4]).write_text(json.dumps(rows))
