"""Review app at scale: a shoot of N real photos (default 2,000) in series of 5 — cache, pages, decisions.

Run:  PYTHONPATH=src python benchmarks/bench_review.py [--photos 2000] [--side 1200] [--per-series 5]

Writes N JPEGs (crops of skimage photos, SIDE px on the long side) into a temp folder and a ranking document for
them (series of PER-SERIES frames, scores from the crop position: no model runs, this measures the app). Then,
through the same FastAPI app `fgaesq review` serves (in-process HTTP client): thumbnails made for every photo (the
start-up warm-up), the first overview page cold and warm, the undecided filter, one series' JSON, previews and 100 %
copies of one series, and decisions (database commit + XMP sidecar). Prints milliseconds per step.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image
from skimage import data as skdata

from fgaesq.serve.annotate.db import make_engine
from fgaesq.serve.review.app import ReviewSession, create_app
from fgaesq.serve.review.cache import PreviewCache
from fgaesq.serve.review.shoot import shoot_from_doc
from fgaesq.serve.review.store import ReviewStore

SOURCES = (skdata.astronaut, skdata.coffee, skdata.chelsea, skdata.rocket)


def build_shoot(folder: Path, n: int, side: int, per: int) -> dict:
    """N JPEGs and a `fgaesq.ranking/1` document grouping them into series of `per`."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    bases = []
    for load in SOURCES:
        img = Image.fromarray(load())
        s = side / max(img.size)
        bases.append(img.resize((round(img.width * s * 1.1), round(img.height * s * 1.1)), Image.Resampling.BICUBIC))
    series = []
    for k in range(0, n, per):
        base = bases[(k // per) % len(bases)]
        ranking = []
        for i in range(k, min(n, k + per)):
            dx, dy = (int(v) for v in rng.integers(0, base.width - round(base.width / 1.1), 2) % 40)
            p = folder / f"IMG_{i + 1:05d}.jpg"
            base.crop((dx, dy, dx + round(base.width / 1.1), dy + round(base.height / 1.1))).save(p, quality=90)
            ranking.append({"path": str(p), "score": float(8 - 0.1 * dx / 40 - 0.1 * dy / 40)})
        ranking.sort(key=lambda r: -r["score"])
        for r, item in enumerate(ranking, 1):
            item.update(rank=r, rating=5 if r == 1 else 3)
        series.append({"series": f"series-{len(series) + 1:04d}", "ranking": ranking})
    return {"schema": "fgaesq.ranking/1", "model": "benchmark", "series": series, "errors": []}


def timed(fn, repeat: int = 1) -> float:
    """Median milliseconds of fn()."""
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(1000 * (time.perf_counter() - t))
    return statistics.median(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=int, default=2000)
    ap.add_argument("--side", type=int, default=1200)
    ap.add_argument("--per-series", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t = time.perf_counter()
        doc = build_shoot(tmp / "shoot", args.photos, args.side, args.per_series)
        print(f"wrote {args.photos} JPEGs ({args.side} px) in {time.perf_counter() - t:.1f} s")
        shoot = shoot_from_doc(doc, tmp / "shoot")
        store = ReviewStore(make_engine(f"sqlite:///{tmp / 'review.sqlite'}"), shoot)
        session = ReviewSession(shoot=shoot, store=store, cache=PreviewCache(tmp / "cache"))
        client = TestClient(create_app(session))

        t = time.perf_counter()
        session.cache.warm([f.path for f in shoot.frames])
        warm = time.perf_counter() - t
        print(f"thumbnails for {len(shoot.frames)} photos: {warm:.1f} s ({1000 * warm / len(shoot.frames):.1f} ms each)")
        print(f"overview page 1 (60 cards): {timed(lambda: client.get('/')):.1f} ms; "
              f"warm {timed(lambda: client.get('/'), 5):.1f} ms (median of 5)")
        print(f"undecided filter, last page: {timed(lambda: client.get('/?filter=undecided&page=999'), 5):.1f} ms")
        mid = len(shoot.series) // 2
        print(f"series JSON: {timed(lambda: client.get(f'/api/series/{mid}'), 5):.1f} ms")
        s = shoot.series[mid]
        cold = timed(lambda: [client.get(f"/preview/{f.id}.jpg") for f in s.frames]) / len(s.frames)
        full = timed(lambda: [client.get(f"/full/{f.id}.jpg") for f in s.frames]) / len(s.frames)
        hot = timed(lambda: [client.get(f"/preview/{f.id}.jpg") for f in s.frames], 3) / len(s.frames)
        print(f"preview per photo: first {cold:.1f} ms, cached {hot:.1f} ms; 100 % copy first {full:.1f} ms")
        lat = []
        for k in range(0, min(len(shoot.series), 100)):
            f = shoot.series[k].frames[-1]
            t = time.perf_counter()
            client.post("/api/decide", json={"frame": f.id, "action": "best"})
            lat.append(1000 * (time.perf_counter() - t))
        print(f"decision B (commit + {args.per_series} sidecars + judgements): median {statistics.median(lat):.1f} ms, "
              f"p95 {np.percentile(lat, 95):.1f} ms over {len(lat)} series")
        print(f"overview after {len(lat)} decisions: {timed(lambda: client.get('/'), 5):.1f} ms")


if __name__ == "__main__":
    main()
