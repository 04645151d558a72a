"""Milliseconds per FGAesQ forward pass (batch 1 and 8, 512 tokens) for fgaesq-vit-b-16 and fgaesq-tiny.

Run: PYTHONPATH=src python benchmarks/bench_model.py [--repeats 3] [--threads N] [--models fgaesq-tiny ...]
Prints one line per (device, precision, model, batch, mode). On CUDA it also times bf16 and fp16 autocast.
Weights are random (timing does not depend on them); tokens are a full 512-slot sequence with 56 fine tokens,
plus a half-padded sequence (248 real tokens, like a 300x200 photo) to show what compat=False saves.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time

import torch

from fgaesq.model import create_model


def make_tokens(model, batch: int, real: int, seq_len: int = 512):
    """A token batch with `real` real slots (CLS included) and padding after them."""
    g = torch.Generator().manual_seed(0)
    p, d = model.config.patch_size, model.config.width
    patches = torch.randn(batch, seq_len, 3, p, p, generator=g)
    pos = torch.randn(batch, seq_len, d, generator=g) * 0.05
    scale = torch.zeros(batch, seq_len, dtype=torch.long)
    scale[:, max(1, real - 56) : real] = 1
    pad = torch.zeros(batch, seq_len, dtype=torch.bool)
    pad[:, real:] = True
    patches[:, real:] = 0
    pos[:, real:] = 0
    patches[:, 0] = 0
    return patches, pos, scale, pad


def time_forward(model, toks, *, device: str, dtype: torch.dtype | None, compat: bool, repeats: int) -> float:
    """Median wall time of one forward in ms (after one warm-up)."""
    toks = [t.to(device) for t in toks]
    ctx = torch.autocast(device, dtype=dtype) if dtype is not None else contextlib.nullcontext()
    times = []
    with torch.inference_mode(), ctx:
        for i in range(repeats + 1):
            if device == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            model(*toks, compat=compat)
            if device == "cuda":
                torch.cuda.synchronize()
            if i:
                times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    ap.add_argument("--models", nargs="+", default=["fgaesq-tiny", "fgaesq-vit-b-16"])
    ap.add_argument("--batches", nargs="+", type=int, default=[1, 8])
    ap.add_argument("--cpu-only", action="store_true")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    runs = [("cpu", None)]
    if torch.cuda.is_available() and not args.cpu_only:
        runs += [("cuda", None), ("cuda", torch.bfloat16), ("cuda", torch.float16)]
        print(f"# CUDA device: {torch.cuda.get_device_name(0)}")
    print(f"# torch {torch.__version__}, CPU threads {torch.get_num_threads()}, repeats {args.repeats} (median)")
    print(f"{'device':6} {'precision':9} {'model':16} {'batch':>5} {'tokens':>14} {'compat':>6} {'ms/forward':>11} {'ms/image':>9}")
    for name in args.models:
        torch.manual_seed(0)
        model = create_model(name).eval()
        for device, dtype in runs:
            model.to(device)
            prec = "fp32" if dtype is None else str(dtype).replace("torch.", "")
            for batch in args.batches:
                cases = [(512, True), (248, True), (248, False)]
                for real, compat in cases:
                    toks = make_tokens(model, batch, real, model.config.seq_len)
                    ms = time_forward(model, toks, device=device, dtype=dtype, compat=compat, repeats=args.repeats)
                    label = f"{real} real/512"
                    print(f"{device:6} {prec:9} {name:16} {batch:>5} {label:>14} {compat!s:>6} {ms:>11.1f} {ms / batch:>9.1f}",
                          flush=True)
        model.to("cpu")


if __name__ == "__main__":
    main()
