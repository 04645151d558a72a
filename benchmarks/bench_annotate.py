"""Annotation app: time to hand out a pair (active Bradley–Terry selection under the lock) and to record a vote.

Run:  PYTHONPATH=src python benchmarks/bench_annotate.py [--series 30] [--images 8] [--target 3] [--db URL]

Builds ROOT with SERIES folders of IMAGES small real photo crops (skimage.data), then lets TARGET simulated
annotators judge every pair through `AnnotationStore` (the same code the web pages call) on SQLite (default,
WAL, synchronous=FULL) or the given database URL. Prints median and 95th-percentile milliseconds per
`next_pair` and per `record_vote`, and the number of pairs.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data as skdata

from fgaesq.serve.annotate import AnnotationStore, Catalog, make_engine


def build_root(root: Path, n_series: int, n_images: int) -> None:
    """SERIES folders of IMAGES 64×64 crops of skimage's astronaut."""
    photo = skdata.astronaut()
    rng = np.random.default_rng(0)
    for s in range(n_series):
        d = root / f"series-{s:03d}"
        d.mkdir(parents=True)
        for i in range(n_images):
            y, x = rng.integers(0, photo.shape[0] - 64, 2)
            Image.fromarray(photo[y : y + 64, x : x + 64]).save(d / f"img-{i}.png")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", type=int, default=30)
    ap.add_argument("--images", type=int, default=8)
    ap.add_argument("--target", type=int, default=3)
    ap.add_argument("--db", default=None, help="database URL (default: a temporary SQLite file)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "root"
        build_root(root, args.series, args.images)
        engine = make_engine(args.db or str(Path(tmp) / "votes.sqlite"))
        store = AnnotationStore(engine, Catalog.scan(root), target_votes=args.target)
        rng = np.random.default_rng(1)
        t_next, t_vote = [], []
        for a in range(args.target):
            who = f"annotator-{a}"
            while True:
                t0 = time.perf_counter()
                pair = store.next_pair(who)
                t_next.append(time.perf_counter() - t0)
                if pair is None:
                    break
                t0 = time.perf_counter()
                store.record_vote(
                    who, str(rng.choice(["a", "b", "tie"], p=[0.45, 0.45, 0.1])), token=pair.token
                )
                t_vote.append(time.perf_counter() - t0)
        engine.dispose()
    ms = lambda xs: (1000 * float(np.median(xs)), 1000 * float(np.percentile(xs, 95)))  # noqa: E731
    backend = (args.db or "sqlite").split(":")[0]
    print(
        f"{args.series} series x {args.images} images = {store.catalog.n_pairs} pairs, target {args.target}, {backend}"
    )
    print(f"next_pair:   median {ms(t_next)[0]:.1f} ms, p95 {ms(t_next)[1]:.1f} ms  ({len(t_next)} calls)")
    print(f"record_vote: median {ms(t_vote)[0]:.1f} ms, p95 {ms(t_vote)[1]:.1f} ms  ({len(t_vote)} calls)")


if __name__ == "__main__":
    main()
