"""Speed in one run, as ratios: tokenization vs forward, forward backends vs a bare open_clip ViT, score and rank
throughput per backend and model, and rank/score cost on a flat shoot of bursts (quiet and with a core kept busy).

    PYTHONPATH=src python benchmarks/bench_speed.py                 # tiny + lite, ViT-B/16 forwards only
    PYTHONPATH=src python benchmarks/bench_speed.py --vit-shoot     # also score/rank the shoot with ViT-B/16
    PYTHONPATH=src python benchmarks/bench_speed.py --device cuda   # GPU: forwards and throughput on the device

Figures are medians; CPU figures also give process CPU time, the one to compare on a shared machine. The load
average at the start is printed: on a busy machine wall times stretch, CPU times much less. ONNX graphs are
exported once into ~/.cache/fgaesq/onnx ($FGAESQ_CACHE). ViT-B/16 and fgaesq-tiny have random weights (timing
only); fgaesq-lite is the shipped model.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.shoot import make_shoot  # noqa: E402
from fgaesq.io import list_images  # noqa: E402


def _time(fn: Callable[[], object], repeats: int, sync: bool = False) -> tuple[float, float]:
    """Median (wall s, process CPU s) of fn over repeats, after one warm-up call."""
    fn()
    walls, cpus = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        if sync:
            torch.cuda.synchronize()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus)


def _model(name: str):
    from fgaesq.model import create_model

    torch.manual_seed(0)
    return create_model(name).eval()


def tokenization_vs_forward(repeats: int) -> None:
    """Pair tokenization of a 2048x1536 pair on one thread against the forward of its two sequences."""
    from PIL import Image, ImageFilter

    from benchmarks.shoot import _fit, sources
    from fgaesq.model.onnx_export import example_inputs
    from fgaesq.tokenize import DiffTokenizer

    base = _fit(sources()[0][1], (2048, 1536))
    other = base.filter(ImageFilter.GaussianBlur(1.5))
    a, b = np.asarray(base), np.asarray(other)
    print("\n== pair tokenization (2048x1536, 1 thread) vs the forward of its 2 sequences ==")
    with contextlib.ExitStack() as stack:
        before = torch.get_num_threads()
        torch.set_num_threads(1)
        stack.callback(torch.set_num_threads, before)
        for compat in (True, False):
            tk = DiffTokenizer(torch.randn(197, 768) * 0.02, compat=compat, hash_pixels=False)
            w, c = _time(lambda tk=tk: tk.pair(a, b, pair_id="bench"), repeats)
            print(f"tokenize pair, compat={compat!s:5s}: {1000 * w:7.1f} ms wall {1000 * c:7.1f} ms CPU "
                  f"(target <= 50 ms)")
        _ = Image  # PIL is used through the helpers
    tok_cpu = c
    for name in ("fgaesq-tiny", "fgaesq-vit-b-16"):
        m = _model(name)
        args = example_inputs(m, 2)
        with torch.inference_mode():
            w, cf = _time(lambda m=m, args=args: m(*args), max(1, repeats // 2))
        print(f"forward of 2 sequences, {name:16s}: {1000 * w:8.1f} ms wall {1000 * cf:8.1f} ms CPU -> "
              f"tokenization / forward = {tok_cpu / cf:.2f}")


def _gflop(m, n: int) -> float:
    """GFLOP of one n-token forward through the transformer (2 x multiply-adds of the matmuls and attention)."""
    d, layers = m.width, len(m.visual.transformer.resblocks)
    return 2 * layers * (12 * n * d * d + 2 * n * n * d) / 1e9


def forwards(batch: int, repeats: int, device: str) -> None:
    """ms per 512-slot sequence: torch eager, ONNX fp32 and int8, and a bare open_clip ViT at 512 tokens."""
    from fgaesq.model.onnx_export import example_inputs
    from fgaesq.scoring.onnx_backend import exported_path, session

    print(f"\n== forward per 512-slot sequence (batch {batch}, {torch.get_num_threads()} threads, {device}) ==")
    for name in ("fgaesq-tiny", "fgaesq-vit-b-16"):
        m = _model(name).to(device)
        args = [t.to(device) for t in example_inputs(m, batch)]
        sync = device == "cuda"
        with torch.inference_mode():
            ours = _time(lambda m=m, args=args: m(*args), repeats, sync)
            x = torch.randn(batch, 512, m.width, device=device)
            bare = _time(lambda m=m, x=x: m.visual.ln_post(m.visual.transformer(m.visual.ln_pre(x))[:, 0]), repeats,
                         sync)
        k = 1 if device == "cuda" else 1  # wall on a GPU, CPU time on the CPU
        key = 0 if device == "cuda" else k
        line = (f"{name:16s} torch {1000 * ours[key] / batch:8.1f} ms | bare open_clip {1000 * bare[key] / batch:8.1f}"
                f" ms -> ours/bare speed {bare[key] / ours[key]:.2f} (target >= 0.9)")
        if device == "cpu":
            with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
                b16 = _time(lambda m=m, args=args: m(*args), repeats)
            gflop = _gflop(m, 512)
            line += (f" ({gflop / (ours[1] / batch):.0f} GFLOP/s of CPU time) | torch bf16 {1000 * b16[1] / batch:8.1f}"
                     f" ms ({ours[1] / b16[1]:.2f}x)")
            feed = {n: t.numpy() for n, t in zip(("patches", "pos", "scale", "pad"), args, strict=True)}
            for label, int8 in (("onnx fp32", False), ("onnx int8", True)):
                sess = session(exported_path(m, int8=int8), torch.get_num_threads())
                r = _time(lambda s=sess, f=feed: s.run(None, f), repeats)
                line += f" | {label} {1000 * r[1] / batch:8.1f} ms ({ours[1] / r[1]:.2f}x torch)"
        print(line + ("  [CPU time]" if device == "cpu" else "  [wall]"))


def _scorers(name: str, device: str, backends: list[str]):
    from fgaesq.scoring import load_scorer
    from fgaesq.scoring.vit import FGAesQScorer

    for backend in backends:
        kw = {"backend": "onnx", "int8": backend == "int8"} if backend != "torch" else {}
        if name == "fgaesq-lite":
            yield backend, load_scorer("fgaesq-lite", device=device, **kw)
        else:
            yield backend, FGAesQScorer(_model(name), name=name, device=device, **kw)


def throughput(folder: Path, models: list[str], device: str, backends: list[str]) -> None:
    """images/s of score and rank (default mode, default workers) over the shoot, per model and backend."""
    from fgaesq.rank.pipeline import rank_paths, score_paths

    files = list_images(folder)
    print(f"\n== score and rank throughput: {len(files)} photos ({device}) ==")
    for name in models:
        base = None
        for backend, scorer in _scorers(name, device, backends if device == "cpu" else ["torch"]):
            t0 = time.perf_counter()
            score_paths(files, scorer)
            ts = time.perf_counter() - t0
            t0 = time.perf_counter()
            r = rank_paths(files, scorer, root=folder)
            tr = time.perf_counter() - t0
            base = base or (ts, tr)
            print(f"{name:16s} {backend:5s}: score {len(files) / ts:6.2f} img/s, rank {len(files) / tr:6.2f} img/s "
                  f"({r.forward_passes} forwards; rank/score {tr / ts:.2f}; vs torch: score {base[0] / ts:.2f}x, "
                  f"rank {base[1] / tr:.2f}x)", flush=True)


@contextlib.contextmanager
def busy_core():
    """Keep one core busy with another process (a spinning Python) for the duration of the block."""
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        yield
    finally:
        proc.kill()
        proc.wait()


def rank_vs_score(folder: Path, device: str, modes: tuple[str, ...] = ("pairs", "series")) -> None:
    """rank / score cost with fgaesq-tiny on a flat shoot of bursts of 5, quiet and with one core kept busy."""
    from fgaesq.rank.pipeline import rank_paths, score_paths
    from fgaesq.scoring.vit import FGAesQScorer

    files = list_images(folder)
    scorer = FGAesQScorer(_model("fgaesq-tiny"), name="fgaesq-tiny", device=device)
    print(f"\n== rank / score, fgaesq-tiny, {len(files)} photos in bursts of 5 (workers {scorer.workers}, "
          f"forward threads {scorer.forward_threads}) ==")
    for label, ctx in (("quiet", contextlib.nullcontext), ("one core busy", busy_core)):
        with ctx():
            t0 = time.perf_counter()
            score_paths(files, scorer)
            ts = time.perf_counter() - t0
            for mode in modes:
                t0 = time.perf_counter()
                rank_paths(files, scorer, root=folder, mode=mode)
                tr = time.perf_counter() - t0
                target = 2.5 if label == "quiet" else 3.0
                print(f"{label:14s} --mode {mode:6s}: score {ts:6.1f} s, rank {tr:6.1f} s -> rank/score {tr / ts:.2f} "
                      f"(target <= {target})", flush=True)


def main() -> None:
    """Run every section and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--bursts", type=int, default=4, help="bursts of 5 photos at 2560x1600 in the shoot")
    ap.add_argument("--vit-shoot", action="store_true", help="also score/rank the shoot with ViT-B/16")
    ap.add_argument("--backends", default="torch,onnx,int8")
    ap.add_argument("--skip", default="", help="comma list of sections to skip: tokenize,forward,throughput,ratio")
    args = ap.parse_args()
    skip = set(args.skip.split(",")) - {""}
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, load average {os.getloadavg()[0]:.1f}")
    if "tokenize" not in skip:
        tokenization_vs_forward(args.repeats)
    if "forward" not in skip:
        forwards(args.batch, args.repeats, args.device)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "shoot"
        if not {"throughput", "ratio"} <= skip:
            make_shoot(folder, args.bursts, 5, size=(2560, 1600))
        if "throughput" not in skip:
            models = ["fgaesq-tiny", "fgaesq-lite"] + (["fgaesq-vit-b-16"] if args.vit_shoot else [])
            throughput(folder, models, args.device, args.backends.split(","))
        if "ratio" not in skip:
            rank_vs_score(folder, args.device)


if __name__ == "__main__":
    main()
