"""Where `fgaesq rank`'s wall time goes on a flat shoot of 12 MP bursts, per stage, for three models.

Builds a flat folder of camera bursts (benchmarks/shoot.py: real photos at 4000x3000, small shifts, blur and
exposure changes, EXIF times), ranks it in-process with each model and prints, per stage, the exclusive wall
time and its share: checking files, decode, resize/alignment, SSIM, token assembly, other tokenizer work,
batching, forward, aggregation, grouping. Stages are timed by wrapping the functions that do them (workers=0,
so every stage runs in this process); a final row runs the same ranking with the default settings (tokenizing
workers, thread plan) and reports its wall time.

    PYTHONPATH=src python benchmarks/bench_rank_profile.py                 # quick: 2 bursts of 4 (8 photos)
    PYTHONPATH=src python benchmarks/bench_rank_profile.py --full          # the issue's 4 bursts of 10
    PYTHONPATH=src python benchmarks/bench_rank_profile.py --device cuda   # GPU figures (SSIM on the device)

ViT-B/16 has random weights (timing only); fgaesq-tiny is seeded; fgaesq-lite is the shipped model.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.shoot import make_shoot  # noqa: E402
from fgaesq.io import list_images  # noqa: E402

STAGES = ("check files", "decode", "resize/alignment", "SSIM", "token assembly", "tokenizer (other)", "lite views",
          "batching", "forward", "aggregation", "grouping")


class Profile:
    """Exclusive wall time per label for wrapped callables (nested calls are charged to the inner label)."""

    def __init__(self, clock=time.perf_counter) -> None:
        self.clock = clock
        self.totals: dict[str, float] = defaultdict(float)
        self._stack: list[list] = []
        self._undo: list = []

    def wrap(self, owner, name: str, label: str) -> None:
        """Replace owner.name by a timed version (undone by restore)."""
        original = getattr(owner, name)
        prof = self

        def timed(*a, **kw):
            frame = [prof.clock(), 0.0]
            prof._stack.append(frame)
            try:
                return original(*a, **kw)
            finally:
                prof._stack.pop()
                spent = prof.clock() - frame[0]
                prof.totals[label] += spent - frame[1]
                if prof._stack:
                    prof._stack[-1][1] += spent

        setattr(owner, name, timed)
        self._undo.append((owner, name, original))

    def restore(self) -> None:
        """Put every wrapped callable back."""
        for owner, name, original in reversed(self._undo):
            setattr(owner, name, original)
        self._undo.clear()


def _scorer(model_name: str, device: str, workers: int | None):
    from fgaesq.model import create_model
    from fgaesq.scoring import load_scorer
    from fgaesq.scoring.vit import FGAesQScorer

    if model_name == "fgaesq-lite":
        return load_scorer("fgaesq-lite", device=device)
    torch.manual_seed(0)
    return FGAesQScorer(create_model(model_name), name=f"{model_name} (random init)", device=device, workers=workers)


def profile_rank(folder: Path, model_name: str, device: str, mode: str, clock=time.perf_counter
                 ) -> tuple[dict[str, float], float, int]:
    """Stage times (s), total wall (s) and forward passes of one in-process ranking."""
    import fgaesq.rank.pipeline as pipeline
    import fgaesq.scoring.batching as batching
    import fgaesq.scoring.lite as lite
    import fgaesq.tokenize as tokenize
    import fgaesq.tokenize.tokenizer as tk

    scorer = _scorer(model_name, device, 0)
    if hasattr(scorer, "tokenizer") and scorer.device.type == "cuda":
        scorer.tokenizer.device = scorer.device  # SSIM on the GPU
    files = list_images(folder)
    prof = Profile(clock)
    prof.wrap(pipeline, "validate", "check files")
    prof.wrap(batching, "decode_array", "decode")  # (or the pixels read back from rank's shared decode cache)
    prof.wrap(lite, "decode_cached", "decode")
    for name in ("single_viewset", "pair_viewsets", "single_views"):  # whichever the lite scorer calls
        if hasattr(lite, name):
            prof.wrap(lite, name, "lite views")
    prof.wrap(tk, "pair_geometry", "resize/alignment")
    prof.wrap(tk.DiffTokenizer, "_overlap_importance", "SSIM")
    prof.wrap(tk.DiffTokenizer, "_finish", "token assembly")
    for name in ("single", "pair", "series"):
        prof.wrap(tk.DiffTokenizer, name, "tokenizer (other)")
    prof.wrap(tokenize, "collate_tokens", "batching")
    prof.wrap(pipeline, "aggregate_series", "aggregation")
    prof.wrap(pipeline, "discover_series", "grouping")
    if hasattr(scorer, "_forward"):
        prof.wrap(scorer, "_forward", "forward")
    else:  # fgaesq-lite: its backbone (descriptors, kept per file) and its head
        prof.wrap(scorer.model, "describe", "forward")
        prof.wrap(scorer.model, "forward_desc", "forward")
    try:
        t0 = clock()
        result = pipeline.rank_paths(files, scorer, root=folder, mode=mode)
        total = clock() - t0
    finally:
        prof.restore()
    if device == "cuda":
        torch.cuda.synchronize()
    return dict(prof.totals), total, result.forward_passes


def default_run(folder: Path, model_name: str, device: str, mode: str) -> tuple[float, int]:
    """Wall time of the same ranking with the default workers and thread plan."""
    from fgaesq.rank.pipeline import rank_paths

    scorer = _scorer(model_name, device, None)
    t0 = time.perf_counter()
    rank_paths(list_images(folder), scorer, root=folder, mode=mode)
    return time.perf_counter() - t0, int(getattr(scorer, "workers", 0))


def print_table(rows: dict[str, tuple[dict[str, float], float, int]]) -> None:
    """Stages x models: seconds and % of the wall time."""
    names = list(rows)
    print(f"{'stage':20s}" + "".join(f"{n:>26s}" for n in names))
    for stage in (*STAGES, "other"):
        cells = []
        for n in names:
            stages, total, _ = rows[n]
            v = total - sum(stages.values()) if stage == "other" else stages.get(stage, 0.0)
            cells.append(f"{v:9.2f} s {100 * v / total:5.1f} %     ")
        print(f"{stage:20s}" + "".join(f"{c:>26s}" for c in cells))
    print(f"{'total (in process)':20s}" + "".join(f"{rows[n][1]:9.2f} s  {rows[n][2]:4d} fwd     " for n in names))
    tok = ("decode", "resize/alignment", "SSIM", "token assembly", "tokenizer (other)", "lite views")
    print(f"{'decode+tokenize share':20s}" + "".join(
        f"{100 * sum(rows[n][0].get(s, 0.0) for s in tok) / rows[n][1]:14.1f} %           " for n in names))


def main() -> None:
    """Build the shoot, profile each model, print the table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", action="store_true", help="4 bursts of 10 (40 photos) instead of 2 bursts of 4")
    ap.add_argument("--bursts", type=int, default=None)
    ap.add_argument("--per-burst", type=int, default=None)
    ap.add_argument("--models", default="fgaesq-vit-b-16,fgaesq-tiny,fgaesq-lite")
    ap.add_argument("--mode", default="pairs", help="pairs (the default of fgaesq rank) | series | references")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="cpu: process CPU time per stage (stable on a busy machine; the forward's threads add up)")
    ap.add_argument("--no-default-run", action="store_true", help="skip the run with default workers/threads")
    ap.add_argument("--folder", type=Path, default=None, help="reuse (or build once into) this folder")
    args = ap.parse_args()
    bursts = args.bursts or (4 if args.full else 2)
    per = args.per_burst or (10 if args.full else 4)
    with contextlib.ExitStack() as stack:
        folder = args.folder or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        folder.mkdir(parents=True, exist_ok=True)
        if not list_images(folder):
            t0 = time.perf_counter()
            make_shoot(folder, bursts, per)
            print(f"built {bursts} bursts x {per} photos of 4000x3000 in {time.perf_counter() - t0:.0f} s")
        n = len(list_images(folder))
        print(f"flat shoot: {n} photos of 12 MP, mode {args.mode}, device {args.device}, torch {torch.__version__}, "
              f"{torch.get_num_threads()} threads, {args.clock} clock, load average {os.getloadavg()[0]:.1f}")
        rows = {}
        for name in args.models.split(","):
            clock = time.process_time if args.clock == "cpu" else time.perf_counter
            rows[name] = profile_rank(folder, name, args.device, args.mode, clock)
            print(f"  {name}: {rows[name][1]:.1f} s in process", flush=True)
        print_table(rows)
        if not args.no_default_run:
            for name in rows:
                wall, workers = default_run(folder, name, args.device, args.mode)
                print(f"default settings ({workers} tokenizing workers): {name} {wall:.1f} s = "
                      f"{wall / n:.2f} s per photo")


if __name__ == "__main__":
    main()
