"""CPU milliseconds per image for fgaesq-lite on a 500×500 and a 12 MP JPEG (decode + views + forward).

``python benchmarks/bench_lite.py [--threads 1] [--repeat 5] [--weights SPEC] [--backend torch|onnx|int8]``

Prints wall-clock ms and CPU ms (process time: what one core spends, less sensitive to other jobs on a shared
machine) per image.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image


def _photo(size: tuple[int, int], path: Path) -> Path:
    import skimage.data

    img = Image.fromarray(skimage.data.astronaut()).resize(size, Image.Resampling.BICUBIC)
    img.save(path, quality=92)
    return path


def main() -> None:
    """Time single-mode and pair-mode scoring."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--weights", default="fgaesq-lite", help="model to time (default: the shipped fgaesq-lite)")
    ap.add_argument("--backend", default="torch", choices=["torch", "onnx", "int8"],
                    help="network runtime: torch, ONNX Runtime fp32 (onnx) or int8 (needs fgaesq[onnx])")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from fgaesq.scoring import load_scorer
    from fgaesq.scoring.images import _decode_path
    from fgaesq.scoring.lite import LiteScorer

    t0 = time.perf_counter()
    backend = "torch" if args.backend == "torch" else "onnx"
    scorer = load_scorer(args.weights, device="cpu", backend=backend, int8=args.backend == "int8")
    if backend == "onnx":  # ONNX Runtime on one thread, like torch
        from fgaesq.scoring.onnx_backend import exported_path, session

        scorer._session = session(exported_path(scorer.model, int8=args.backend == "int8"), args.threads)
    print(f"load {scorer.name}: {1000 * (time.perf_counter() - t0):.0f} ms; threads: {args.threads}")
    crops = LiteScorer(scorer.model, "pair crops", device="cpu", pair_crops=True)
    with tempfile.TemporaryDirectory() as tmp:
        for label, size in (("500x500", (500, 500)), ("12 MP (4000x3000)", (4000, 3000))):
            p = _photo(size, Path(tmp) / f"{size[0]}.jpg")
            scorer.score([p])  # warm-up
            single, crop, cpu = [], [], []
            for _ in range(args.repeat):
                _decode_path.cache_clear()  # time the decode too (scorers cache decoded files per process)
                getattr(scorer, "_descs", {}).clear()  # and the descriptors (LiteScorer keeps them per file)
                t, c = time.perf_counter(), time.process_time()
                scorer.score([p])
                single.append(time.perf_counter() - t)
                cpu.append(time.process_time() - c)
                _decode_path.cache_clear()
                t = time.perf_counter()
                crops.score_pairs([(p, p, "bench")])
                crop.append((time.perf_counter() - t) / 2)
            print(f"{label:>18}: {1000 * np.median(single):7.1f} ms/image, {1000 * np.median(cpu):7.1f} CPU ms/image "
                  f"(single mode = the shipped pair mode), "
                  f"{1000 * np.median(crop):7.1f} ms/image with pair crops "
                  f"(median of {args.repeat}; decode + views + forward)")  # fmt: skip


if __name__ == "__main__":
    main()
