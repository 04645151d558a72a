"""Training throughput of `fgaesq train` (ViT-B/16, random init) beside a bare open_clip ViT-B/16 step.

One short epoch of the real loop (Lightning, DataLoader workers decoding + DiffToken pair tokenization, RankReg +
EMD alternating, AdamW, bf16 autocast on GPU) on generated series, then, in the same process and on the same
device, a bare open_clip ViT-B/16 image tower doing forward + backward + AdamW at the same token count (511
patches + CLS = 512 tokens per image, the DiffToken budget) and batch size. The ratio is what counts: it says how
much the training loop (tokenization, variable masks, the head, data loading) costs over the bare backbone.

GPU (what the issue asks):  PYTHONPATH=src python benchmarks/bench_train_gpu.py
CPU check (minutes, tiny):  PYTHONPATH=src python benchmarks/bench_train_gpu.py --device cpu --steps 2

Prints: images/s of the loop end to end (`loop wall`), images/s inside the optimizer steps only
(`loop steps`, data waiting excluded), images/s of the bare tower, and the ratios.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

PHOTOS = ["astronaut", "chelsea", "coffee", "rocket", "cat", "immunohistochemistry", "retina", "camera"]


def make_series(root: Path, n_series: int, per_series: int, size: tuple[int, int]) -> Path:
    """Series of real photos (skimage.data) at graded blur + under-exposure; returns the JSONL path."""
    import skimage.data as sd
    from PIL import Image, ImageEnhance, ImageFilter

    root.mkdir(parents=True, exist_ok=True)
    lines = []
    for k in range(n_series):
        base = Image.fromarray(getattr(sd, PHOTOS[k % len(PHOTOS)])()).convert("RGB").resize(size)
        base = base.rotate(3 * (k // len(PHOTOS)), resample=Image.Resampling.BICUBIC)  # vary repeated sources
        files = []
        for lvl in range(per_series):
            im = base.filter(ImageFilter.GaussianBlur(0.8 * lvl)) if lvl else base
            im = ImageEnhance.Brightness(im).enhance(1.0 - 0.08 * lvl)
            f = f"s{k}_{lvl}.jpg"
            im.save(root / f, quality=92)
            files.append(f)
        lines.append({"series": f"s{k}", "category": "generated", "images": files, "ranking": files})
    out = root / "series.jsonl"
    out.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return out


def make_coarse(root: Path, n: int, size: tuple[int, int]) -> Path:
    """Coarse CSV over generated photos (random scores): exercises the EMD branch."""
    import skimage.data as sd
    from PIL import Image

    rng = np.random.default_rng(0)
    rows = ["image,score,std"]
    for k in range(n):
        im = Image.fromarray(getattr(sd, PHOTOS[k % len(PHOTOS)])()).convert("RGB").resize(size)
        f = f"c{k}.jpg"
        im.rotate(7 * k).save(root / f, quality=90)
        rows.append(f"{f},{rng.uniform(3, 8):.2f},1.4")
    p = root / "coarse.csv"
    p.write_text("\n".join(rows) + "\n")
    return p


class StepTimer:
    """Lightning callback: wall time per batch and time inside each step (CUDA-synchronised)."""

    def __init__(self, warmup: int, device: str) -> None:
        import lightning as L

        self.warmup, self.device = warmup, device
        self.images, self.step_s, self.t0, self.t_end = 0, 0.0, None, None
        self._start = 0.0
        outer = self

        class _CB(L.Callback):
            def on_train_batch_start(self, trainer, module, batch, idx):
                outer._sync()
                if trainer.global_step == outer.warmup:
                    outer.t0 = time.perf_counter()
                outer._start = time.perf_counter()

            def on_train_batch_end(self, trainer, module, outputs, batch, idx):
                outer._sync()
                if trainer.global_step > outer.warmup:
                    outer.step_s += time.perf_counter() - outer._start
                    outer.images += len(batch.inputs)
                    outer.t_end = time.perf_counter()

        self.callback = _CB()

    def _sync(self) -> None:
        if self.device.startswith("cuda"):
            torch.cuda.synchronize()


def bare_openclip(batch: int, steps: int, warmup: int, device: str, precision: str) -> float:
    """Images/s of open_clip's ViT-B/16 image tower, forward + backward + AdamW, 511 patches + CLS per image."""
    import open_clip

    model = open_clip.create_model("ViT-B-16", pretrained=None, force_image_size=(112, 1168)).visual.to(device)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-5, weight_decay=5e-5)
    x = torch.randn(batch, 3, 112, 1168, device=device)
    ctx = torch.autocast("cuda", dtype=torch.bfloat16) if precision == "bf16-mixed" else torch.autocast("cpu", enabled=False)
    t0 = None
    for s in range(warmup + steps):
        if s == warmup:
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            t0 = time.perf_counter()
        with ctx:
            out = model(x)
        loss = out.float().pow(2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return batch * steps / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--steps", type=int, default=None, help="timed steps (default: 40 on GPU, 2 on CPU)")
    ap.add_argument("--warmup", type=int, default=None, help="untimed steps first (default: 5 on GPU, 1 on CPU)")
    ap.add_argument("--batch-images", type=int, default=None, help="images per batch (default 64 GPU, 2 CPU)")
    ap.add_argument("--image-size", default=None, help="WxH of generated photos (default 1024x768 GPU, 256x192 CPU)")
    ap.add_argument("--workers", type=int, default=None, help="DataLoader workers (default 12 GPU, 0 CPU)")
    ap.add_argument("--model", default="fgaesq-vit-b-16")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = ap.parse_args()
    gpu = args.device.startswith("cuda")
    steps = args.steps or (40 if gpu else 2)
    warmup = args.warmup if args.warmup is not None else (5 if gpu else 1)
    batch = args.batch_images or (64 if gpu else 2)
    w, h = (int(v) for v in (args.image_size or ("1024x768" if gpu else "256x192")).split("x"))
    workers = args.workers if args.workers is not None else (12 if gpu else 0)
    if args.threads:
        torch.set_num_threads(args.threads)
    precision = "bf16-mixed" if gpu else "32-true"

    from fgaesq.train.config import load_config
    from fgaesq.train.run import train

    per_series = min(4, batch)
    total = warmup + steps
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # enough fine batches for the timed steps (stage 2 alternates fine/coarse 1:1)
        n_series = max(2, (total // 2 + 2) * batch // per_series)
        t = time.perf_counter()
        fine = make_series(tmp / "fine", n_series, per_series, (w, h))
        coarse = make_coarse(tmp / "fine", max(batch, 8), (w, h))
        gen_s = time.perf_counter() - t
        timer = StepTimer(warmup, args.device)
        cfg = load_config(None, dict(
            fine_train=[str(fine)], coarse_train=str(coarse), model=args.model, init="random", compat=False,
            stage1_epochs=0, coarse_batch=batch, fine_batch_images=batch, num_workers=workers, epochs=1,
            max_steps=total, out_dir=str(tmp / "run"), accelerator="gpu" if gpu else "cpu", devices="1",
            precision=precision, progress=False, log_every=max(1, total), align_weight=0.0,
        ))
        train(cfg, callbacks=[timer.callback], enable_model_summary=False, enable_checkpointing=False, logger=False)
    timed = timer.images
    wall = timed / (timer.t_end - timer.t0) if timer.t_end and timer.t0 else float("nan")
    inside = timed / timer.step_s if timer.step_s else float("nan")
    bare = bare_openclip(batch, steps, warmup, args.device, precision)
    dev = torch.cuda.get_device_name() if gpu else f"CPU ({torch.get_num_threads()} threads)"
    print(f"device: {dev}; precision {precision}; batch {batch} images; {steps} timed steps after {warmup} warm-up; "
          f"generated {n_series} series of {per_series} photos {w}x{h} in {gen_s:.1f} s; workers {workers}")
    print(f"loop wall   (fgaesq train, {args.model}, random init): {wall:8.2f} images/s")
    print(f"loop steps  (fwd+bwd+AdamW inside the loop, no data wait): {inside:8.2f} images/s")
    print(f"bare open_clip ViT-B/16 fwd+bwd+AdamW, 512 tokens:        {bare:8.2f} images/s")
    print(f"ratio loop wall / bare: {wall / bare:.3f}   loop steps / bare: {inside / bare:.3f}")


if __name__ == "__main__":
    main()
