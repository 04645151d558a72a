"""Tokenizer speed: a 12 MP JPEG in single mode, a 1024x768 pair in pair mode (SSIM included); CPU and CUDA.

Run: PYTHONPATH=src python benchmarks/bench_tokenize.py [--repeats 5] [--threads 1] [--big-pair]
Each figure is the median over the repeats of wall time and of process CPU time (the CPU figure is the one to
compare on a shared machine, where wall time includes waiting for a core). The 12 MP JPEG is made from a real photo (Debian mate-backgrounds `Wood.jpg` when installed, else
skimage's astronaut), upscaled to 4000x3000 and saved at quality 92 in a temporary folder.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from fgaesq.tokenize import DiffTokenizer

MATE_PHOTO = Path("/usr/share/backgrounds/mate/nature/Wood.jpg")


def _source_photo() -> tuple[Image.Image, str]:
    if MATE_PHOTO.is_file():
        return Image.open(MATE_PHOTO).convert("RGB"), str(MATE_PHOTO)
    from skimage import data

    return Image.fromarray(data.astronaut()), "skimage.data.astronaut"


def _ms(fn: Callable[[], object], repeats: int) -> str:
    fn()  # warm-up (caches, allocator)
    wall, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return f"{statistics.median(wall):8.1f} ms wall, {statistics.median(cpu):8.1f} ms CPU"


def main() -> None:
    """Print the benchmark figures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (0 = torch default)")
    ap.add_argument("--big-pair", action="store_true", help="also time a pair of 12 MP images (11,750 SSIM cells)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    photo, source = _source_photo()
    pos = torch.randn(197, 768, generator=torch.Generator().manual_seed(0)) * 0.02
    with tempfile.TemporaryDirectory() as tmp:
        jpeg = Path(tmp) / "photo_12mp.jpg"
        photo.resize((4000, 3000), Image.Resampling.LANCZOS).save(jpeg, quality=92)
        big = Image.open(jpeg).convert("RGB")
        big_arr = np.asarray(big)
        pair_a = photo.resize((1024, 768), Image.Resampling.LANCZOS)
        arr = np.asarray(pair_a).copy()
        arr[200:420, 300:640] = np.clip(arr[200:420, 300:640].astype(np.int16) + 50, 0, 255).astype(np.uint8)
        pair_b = Image.fromarray(arr)
        print(f"source photo: {source}; 12 MP JPEG {big.size[0]}x{big.size[1]} ({jpeg.stat().st_size / 1e6:.1f} MB); "
              f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, median of {args.repeats}")
        devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
        for device in devices:
            name = device if device == "cpu" else f"cuda ({torch.cuda.get_device_name()})"
            for compat in (True, False):
                tk = DiffTokenizer(pos, compat=compat, device=device)
                runs = {f"pair 1024x768, SSIM on {device}": lambda tk=tk: tk.pair(pair_a, pair_b, pair_id="bench_1_2")}
                if device == "cpu":
                    runs = {
                        "single 12 MP JPEG, decode + tokenize": lambda tk=tk: tk.single(Image.open(jpeg)),
                        "single 12 MP, tokenize decoded pixels": lambda tk=tk: tk.single(big_arr),
                        "single 12 MP, tokenize, seed given": lambda tk=tk: tk.single(big_arr, seed=1),
                        **runs,
                    }
                for label, fn in runs.items():
                    print(f"[{name}, compat={compat}] {label:40s}: {_ms(fn, args.repeats)}")
            if args.big_pair:
                tk = DiffTokenizer(pos, device=device)
                big_b = big_arr[::-1].copy()
                print(f"[{name}] pair 12 MP x 2 (11,750 SSIM cells)      : "
                      f"{_ms(lambda tk=tk, big_b=big_b: tk.pair(big, big_b, pair_id='bench_big'), 1)}")

if __name__ == "__main__":
    main()
