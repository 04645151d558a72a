"""`rank_paths` end to end on a flat 12 MP shoot, with the defaults a user gets, for before/after comparisons.

Runs the same ranking as `fgaesq rank FOLDER` in process (ViT-B/16 with random weights: timing only; the network
cost is the real one) and prints one line: wall time, process CPU time, forward passes, best image per series.
It imports whichever fgaesq is first on the path, so the figures of an older checkout come from the same script:

    PYTHONPATH=src python benchmarks/bench_rank_e2e.py --folder /tmp/shoot40 --build 4x10       # build once
    PYTHONPATH=src python benchmarks/bench_rank_e2e.py --folder /tmp/shoot40 --mode series --backend onnx --int8
    git worktree add /tmp/before e283685 && \\
      PYTHONPATH=/tmp/before/src python benchmarks/bench_rank_e2e.py --folder /tmp/shoot40  # the code before issue 10

`--mode`, `--backend` and `--int8` need a checkout that has them; an older one runs its only (paired) mode.
"""

from __future__ import annotations

import argparse
import inspect
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _scorer(model_name: str, backend: str, int8: bool, precision: str = "auto"):
    """A scorer with the defaults of `fgaesq rank` (random-init weights for the DiffToken models)."""
    torch.manual_seed(0)
    try:
        from fgaesq.model import create_model
        from fgaesq.scoring.vit import FGAesQScorer

        kwargs = {"backend": backend, "int8": int8} if backend != "torch" or int8 else {}
        if precision != "auto":
            kwargs["precision"] = precision
        return FGAesQScorer(create_model(model_name), name=model_name, device="cpu", **kwargs)
    except ImportError:  # a checkout before fgaesq.scoring: its CLI default was workers=0
        from fgaesq.rank.scorer import FGAesQScorer

        from fgaesq.model import create_model

        if backend != "torch" or int8 or precision != "auto":
            raise SystemExit("this checkout has no --backend / --int8 / CPU --precision") from None
        return FGAesQScorer(create_model(model_name), name=model_name, device="cpu")


def main() -> None:
    """Build the shoot if asked, rank it once, print the figures."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--folder", type=Path, required=True)
    ap.add_argument("--build", default=None, help="BURSTSxPER: build the shoot into --folder first (e.g. 4x10)")
    ap.add_argument("--model", default="fgaesq-vit-b-16")
    ap.add_argument("--mode", default=None, help="pairs | series | references (default: the checkout's default)")
    ap.add_argument("--backend", default="torch")
    ap.add_argument("--int8", action="store_true")
    ap.add_argument("--precision", default="auto", help="auto | fp32 | bf16 (bf16: autocast, also on the CPU)")
    args = ap.parse_args()
    import fgaesq
    from fgaesq.io import list_images
    from fgaesq.rank.pipeline import rank_paths

    if args.build:
        from benchmarks.shoot import make_shoot

        bursts, per = (int(v) for v in args.build.lower().split("x"))
        args.folder.mkdir(parents=True, exist_ok=True)
        if not list_images(args.folder):
            make_shoot(args.folder, bursts, per)
    files = list_images(args.folder)
    scorer = _scorer(args.model, args.backend, args.int8, args.precision)
    kwargs = {}
    if args.mode:
        if "mode" not in inspect.signature(rank_paths).parameters:
            raise SystemExit("this checkout has no --mode")
        kwargs["mode"] = args.mode
    t0, c0 = time.perf_counter(), time.process_time()
    result = rank_paths(files, scorer, root=args.folder, **kwargs)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    fwd = getattr(result, "forward_passes", None) or sum(s.forward_passes for s in result.series)
    best = [Path(s.best).name if isinstance(s.best, str) else str(s.best) for s in result.series]
    print(f"fgaesq {Path(fgaesq.__file__).parent} | {args.model} mode={args.mode or 'default'} "
          f"backend={args.backend}{' int8' if args.int8 else ''} precision={args.precision} | {len(files)} photos, {len(result.series)} series | "
          f"wall {wall:.1f} s, CPU {cpu:.1f} s, {fwd} forwards, load average {os.getloadavg()[0]:.1f} | best {best}")


if __name__ == "__main__":
    main()
