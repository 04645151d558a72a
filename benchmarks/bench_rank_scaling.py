"""Cost and agreement of k-reference ranking against all pairs, on long series of real photos.

For each series length (default 30 and 50), builds one series from a real photo (skimage.data) with graded
variations (blur, noise, exposure, JPEG quality, contrast; strength grows through the series, plus small
shifts as in a burst), ranks it once with all n(n-1)/2 pairs and once with k references per image, and prints
forward passes (token sequences through the network, embeddings included), wall time, and the Spearman
correlation between the two rankings' scores (target >= 0.95).

    PYTHONPATH=src python benchmarks/bench_rank_scaling.py                       # fgaesq-tiny, CPU
    PYTHONPATH=src python benchmarks/bench_rank_scaling.py --model fgaesq-vit-b-16 --device cuda --workers 8

Models are randomly initialised with a fixed seed (no weights are needed): the figures measure the pair
schedule, not aesthetic quality.
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageFilter
from scipy.stats import spearmanr
from skimage import data

from fgaesq.io import list_images
from fgaesq.model import create_model
from fgaesq.rank.pipeline import rank_paths
from fgaesq.scoring.vit import FGAesQScorer

SOURCES = ("astronaut", "coffee", "chelsea", "rocket")


def graded_series(folder: Path, n: int, source: str, max_side: int, seed: int = 0) -> None:
    """n frames of one photo; frame i has one of five degradations at a strength that grows with i."""
    rng = np.random.default_rng(seed)
    img = Image.fromarray(getattr(data, source)()).convert("RGB")
    s = max_side / max(img.size)
    img = img.resize((round(img.width * s), round(img.height * s)), Image.Resampling.LANCZOS)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        level = (i // 5 + 1) / max(1, (n + 4) // 5)  # (0, 1]
        dx, dy = rng.integers(0, 9, size=2)
        frame = img.crop((dx, dy, img.width - 8 + dx, img.height - 8 + dy))
        kind = i % 5
        if kind == 0:
            frame = frame.filter(ImageFilter.GaussianBlur(0.4 + 2.5 * level))
        elif kind == 1:
            arr = np.asarray(frame, dtype=np.float64) + rng.normal(0, 4 + 30 * level, (frame.height, frame.width, 3))
            frame = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
        elif kind == 2:
            arr = np.asarray(frame, dtype=np.float64) * (1.0 - 0.6 * level)
            frame = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
        elif kind == 3:
            buf = io.BytesIO()
            frame.save(buf, "JPEG", quality=max(3, int(60 - 57 * level)))
            frame = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
        else:
            arr = np.asarray(frame, dtype=np.float64)
            arr = arr.mean() + (arr - arr.mean()) * (1.0 - 0.7 * level)
            frame = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
        frame.save(folder / f"{folder.name}-{i + 1}.png")


def run(n: int, scorer: FGAesQScorer, k: int, root: Path, max_side: int, source: str, references: list[str]) -> dict:
    folder = root / f"s{n}"
    graded_series(folder, n, source, max_side)
    files = list_images(folder)
    out = {}
    runs = [("all-pairs", {"all_pairs_max": 10**6})] + [(f"k={k} {r}", {"k": k, "references": r}) for r in references]
    for label, kw in runs:
        t0 = time.perf_counter()
        res = rank_paths(files, scorer, root=folder, series_by="folder", max_size=None, **kw)
        wall = time.perf_counter() - t0
        (s,) = res.series
        out[label] = {
            "pairs": s.pairs,
            "passes": res.forward_passes,
            "wall": wall,
            "scores": {r.path: r.score for r in s.ranking},
            "best": s.best,
        }
    ref = out["all-pairs"]["scores"]
    keys = sorted(ref)
    for label, _ in runs[1:]:
        kref = out[label]["scores"]
        out[label]["spearman"] = float(spearmanr([ref[p] for p in keys], [kref[p] for p in keys]).statistic)
        out[label]["same_best"] = out["all-pairs"]["best"] == out[label]["best"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[30, 50])
    ap.add_argument("--k", type=int, default=3)
    ap.add_argument("--references", nargs="+", default=["balanced", "nearest"], choices=["balanced", "nearest"])
    ap.add_argument("--model", default="fgaesq-tiny")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--max-side", type=int, default=512, help="long side of the generated frames")
    ap.add_argument("--source", default="chelsea", choices=SOURCES)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    torch.manual_seed(args.seed)
    model = create_model(args.model)
    scorer = FGAesQScorer(model, name=f"{args.model} (random init, seed {args.seed})", device=args.device,
                          batch_size=args.batch_size, workers=args.workers, max_size=None)
    print(f"model {scorer.name}, device {scorer.device}, autocast {scorer.dtype}, torch threads "
          f"{torch.get_num_threads()}, workers {args.workers}, frames {args.max_side}px from skimage {args.source}")
    print(f"{'n':>4} {'schedule':>14} {'pairs':>6} {'passes':>7} {'wall s':>8} {'passes/s':>9}  spearman  same best")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            res = run(n, scorer, args.k, Path(tmp), args.max_side, args.source, args.references)
            for label, r in res.items():
                extra = f"  {r['spearman']:.4f}    {r['same_best']}" if label != "all-pairs" else ""
                print(f"{n:>4} {label:>14} {r['pairs']:>6} {r['passes']:>7} {r['wall']:>8.1f} "
                      f"{r['passes'] / r['wall']:>9.1f}{extra}", flush=True)


if __name__ == "__main__":
    main()
