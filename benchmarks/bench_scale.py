"""Throughput and memory of large runs: one process vs Ray with 1 and 2 workers, and a 20,000-image `--ray` run.

Packs small copies of real photos (skimage.data, each saved in a different version: sharp, blurred, noisy,
low JPEG quality) into WebDataset shards, then prints

- images/s of the single-process streaming run (`score_stream`) on the first ``--sample`` images,
- images/s of `score_units_ray` with 1 and 2 actors on the same images, over the whole run (actor start-up
  included) and steady (from the finishing times of the parts once every worker is busy), and the scaling
  efficiency = (2-worker images/s) / (2 x 1-worker images/s),
- wall time, images/s and peak memory of ``fgaesq score SHARDS --ray auto --out x.parquet`` on all ``--images``
  (peak of the summed resident memory of the command and every process it starts, sampled every 0.2 s),
  and a check that the Parquet output has every key once with the documented columns.

    PYTHONPATH=src python benchmarks/bench_scale.py                          # 20,000 images, fgaesq-tiny
    PYTHONPATH=src python benchmarks/bench_scale.py --images 2000 --sample 400 --weights fgaesq-lite

The default model is ``fgaesq-tiny`` (the FGAesQ architecture, 2 layers, seeded random weights, saved as a
checkpoint): it exercises decoding, DiffToken and the network at a speed that fits a 2-core machine; the
figures measure the data path and the scaling, not aesthetic quality.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter
from skimage import data

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry")


def make_shards(folder: Path, n: int, per_shard: int, side: int) -> list[Path]:
    """n small JPEG versions of real photos in shards of per_shard samples (series = photo)."""
    import webdataset as wds

    rng = np.random.default_rng(0)
    bases = []
    for name in PHOTOS:
        img = Image.fromarray(getattr(data, name)()).convert("RGB")
        s = side / max(img.size)
        bases.append(img.resize((round(img.width * s), round(img.height * s)), Image.Resampling.LANCZOS))
    folder.mkdir(parents=True, exist_ok=True)
    shards = []
    for start in range(0, n, per_shard):
        p = folder / f"{start // per_shard:05d}.tar"
        shards.append(p)
        if p.exists():
            continue
        with wds.TarWriter(str(p)) as w:
            for i in range(start, min(n, start + per_shard)):
                img, kind = bases[i % len(bases)], (i // len(bases)) % 4
                if kind == 1:
                    img = img.filter(ImageFilter.GaussianBlur(0.5 + (i % 7) / 3))
                elif kind == 2:
                    arr = np.asarray(img, dtype=np.float64) + rng.normal(0, 5 + i % 20, (img.height, img.width, 3))
                    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
                buf = io.BytesIO()
                img.save(buf, "JPEG", quality=30 + (i % 60) if kind == 3 else 90)
                w.write({"__key__": f"{i:08d}", "jpg": buf.getvalue(),
                         "json": json.dumps({"series": PHOTOS[i % len(PHOTOS)]}).encode()})
    return shards


def tiny_weights(folder: Path) -> str:
    """A seeded random fgaesq-tiny checkpoint."""
    import torch

    from fgaesq.model import create_model, save_checkpoint

    path = folder / "fgaesq-tiny.safetensors"
    if not path.exists():
        torch.manual_seed(1234)
        save_checkpoint(create_model("fgaesq-tiny"), path)
    return str(path)


def _tree_rss(root: int) -> int:
    """Resident bytes of root and all its descendants (from /proc)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
            parents[int(d.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            rss[int(d.name)] = int((d / "statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            continue
    keep, frontier = {root}, [root]
    while frontier:
        p = frontier.pop()
        kids = [c for c, pp in parents.items() if pp == p and c not in keep]
        keep.update(kids)
        frontier += kids
    return sum(rss.get(p, 0) for p in keep)


def run_cli(args: list[str]) -> tuple[float, int, int]:
    """(wall seconds, peak tree RSS bytes, exit code) of one fgaesq command."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "fgaesq.cli", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    peak = [0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            time.sleep(0.2)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    out, _ = proc.communicate()
    t.join()
    sys.stdout.write(out.decode(errors="replace")[-2000:])
    return time.perf_counter() - t0, peak[0], proc.returncode


def steady_rate(out: Path, per_unit: int, workers: int) -> float:
    """Images/s once every worker is busy: units finished after the first `workers` over the time they took."""
    from fgaesq.rank.outputs import PartsWriter

    times = sorted(p.stat().st_mtime for p in PartsWriter(out).parts())
    if len(times) <= workers:
        return float("nan")
    return per_unit * (len(times) - workers) / max(1e-9, times[-1] - times[workers - 1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=20000)
    ap.add_argument("--per-shard", type=int, default=1000)
    ap.add_argument("--sample", type=int, default=8000,
                    help="images for the 1-process / 1-worker / 2-worker runs (0: only the full --ray run)")
    ap.add_argument("--side", type=int, default=96, help="long side of the small photo copies")
    ap.add_argument("--weights", default=None, help="default: a seeded fgaesq-tiny checkpoint")
    ap.add_argument("--max-size", type=int, default=256)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "fgaesq-bench-scale")
    ap.add_argument("--skip-full", action="store_true", help="only the sample runs")
    args = ap.parse_args()

    from fgaesq.io.sources import plan_units

    args.work.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    shards = make_shards(args.work / "shards", args.images, args.per_shard, args.side)
    print(f"{args.images} images in {len(shards)} shards ({time.perf_counter() - t:.0f} s to write)")
    weights = args.weights or tiny_weights(args.work)
    n_units = max(1, args.sample // args.per_shard)
    units = plan_units([str(p) for p in shards[:n_units]])
    n = min(args.images, n_units * args.per_shard)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; model {weights}")

    if args.sample > 0:
        sample_runs(args, units, n, weights)
    if not args.skip_full:
        full_run(args, shards, weights)


def sample_runs(args, units, n: int, weights: str) -> None:
    """Single process, then Ray with 1 and 2 workers, on the same units."""
    import torch

    from fgaesq.integrations import ray as fray
    from fgaesq.rank.outputs import PartsWriter
    from fgaesq.rank.stream import score_stream

    torch.set_num_threads(1)
    scorer = fray.load_scorer(weights, device="cpu", max_size=args.max_size)
    out = args.work / "single.parquet"
    for p in PartsWriter(out).parts():
        p.unlink()
    t = time.perf_counter()
    score_stream(units, scorer, PartsWriter(out), max_size=args.max_size)
    single = n / (time.perf_counter() - t)
    steady = {0: steady_rate(out, args.per_shard, 1)}
    print(f"single process (1 thread): {single:7.1f} images/s, steady {steady[0]:7.1f}  ({n} images)")

    fray.init("local", num_cpus=2)
    import ray

    ray.data.DataContext.get_current().enable_progress_bars = False
    rates = {}
    for actors in (1, 2):
        out = args.work / f"ray{actors}.parquet"
        for p in PartsWriter(out).parts():
            p.unlink()
        t = time.perf_counter()
        fray.score_units_ray(units, PartsWriter(out), weights=weights, device="cpu", max_size=args.max_size,
                             actors=actors)
        rates[actors] = n / (time.perf_counter() - t)
        steady[actors] = steady_rate(out, args.per_shard, actors)
        print(f"Ray, {actors} worker{'s' if actors > 1 else ' '}:          {rates[actors]:7.1f} images/s, "
              f"steady {steady[actors]:7.1f}")
    ray.shutdown()
    print(f"scaling efficiency 2 vs 1 worker: {rates[2] / (2 * rates[1]):.2f} (whole runs), "
          f"{steady[2] / (2 * steady[1]):.2f} (steady); 2 workers vs single process: {rates[2] / single:.2f}x, "
          f"{steady[2] / steady[0]:.2f}x")


def full_run(args, shards: list[Path], weights: str) -> None:
    """`fgaesq score SHARDS --ray auto --out x.parquet` on every image, with peak memory and an output check."""
    from fgaesq.rank.outputs import PartsWriter

    full = args.work / "full.parquet"
    for p in PartsWriter(full).parts():
        p.unlink()
    pattern = str(args.work / "shards" / f"{{00000..{len(shards) - 1:05d}}}.tar")
    wall, peak, rc = run_cli(["score", pattern, "--ray", "auto", "--out", str(full), "-w", weights,
                              "--device", "cpu", "--max-size", str(args.max_size), "-q"])
    import pyarrow.parquet as pq

    from fgaesq.rank.outputs import COLUMNS

    table = pq.read_table(full)
    keys = table.column("key").to_pylist()
    ok = rc == 0 and len(keys) == len(set(keys)) == args.images and table.schema.names == list(COLUMNS)
    print(f"fgaesq score --ray auto, {args.images} images: {wall:.0f} s, {args.images / wall:.1f} images/s "
          f"(Ray start-up included), peak memory {peak / 2**30:.2f} GiB (command + Ray processes), "
          f"output {'OK' if ok else 'WRONG'}: {len(keys)} rows, {len(set(keys))} keys, exit {rc}")


if __name__ == "__main__":
    main()
