"""Where the refinement defaults come from: SSIM / mean-abs-difference / ORB inliers on real photos.

Run:  PYTHONPATH=src python benchmarks/bench_refine.py

For each skimage.data photo it measures near-duplicate variants (exact copy, JPEG re-encode, frame
shifts, exposure change, blur) and pairs of different photos, then prints the range of each measure
per variant kind, how the default thresholds classify them, and the time per pair.
"""

from __future__ import annotations

import io
import itertools
import time

import numpy as np
import skimage.data as skd
from PIL import Image, ImageFilter

from fgaesq.calibrate.defaults import DEFAULTS as TH
from fgaesq.calibrate.refine_checks import orb_matches, ssim_mad

PHOTOS = ["astronaut", "coffee", "chelsea", "rocket", "camera", "immunohistochemistry", "brick", "grass"]


def rgb(x: np.ndarray) -> np.ndarray:
    return np.stack([x] * 3, -1) if x.ndim == 2 else x


def jpeg(x: np.ndarray, q: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(x).save(buf, "JPEG", quality=q)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def crop(x: np.ndarray, d: int) -> np.ndarray:
    h, w = x.shape[:2]
    return x[d : h - 24 + d, d : w - 24 + d]


def variants(x: np.ndarray) -> dict[str, np.ndarray]:
    base = crop(x, 0)
    return {
        "copy": base.copy(),
        "jpeg q95": jpeg(base, 95),
        "jpeg q80": jpeg(base, 80),
        "shift 4 px": crop(x, 4),
        "shift 10 px": crop(x, 10),
        "exposure x1.1": np.clip(base * 1.1, 0, 255).astype(np.uint8),
        "exposure x1.3": np.clip(base * 1.3, 0, 255).astype(np.uint8),
        "blur 1.5": np.asarray(Image.fromarray(base).filter(ImageFilter.GaussianBlur(1.5))),
    }


def main() -> None:
    """Print the table."""
    imgs = {n: rgb(getattr(skd, n)()) for n in PHOTOS}
    rows: dict[str, list[tuple[float, float, int]]] = {}
    t0, n_pairs = time.perf_counter(), 0
    for x in imgs.values():
        for kind, y in variants(x).items():
            s, m = ssim_mad(crop(x, 0), y)
            rows.setdefault(kind, []).append((s, m, orb_matches(crop(x, 0), y)))
            n_pairs += 1
    left, right, _ = skd.stereo_motorcycle()
    s, m = ssim_mad(left, right)
    rows["stereo left/right"] = [(s, m, orb_matches(left, right))]
    for a, b in itertools.combinations(PHOTOS, 2):
        s, m = ssim_mad(imgs[a], imgs[b])
        rows.setdefault("different photos", []).append((s, m, orb_matches(imgs[a], imgs[b])))
        n_pairs += 1
    dt = (time.perf_counter() - t0) / n_pairs
    print(f"defaults: dissimilar = SSIM < {TH.ssim_min} and ORB < {TH.orb_min}; "
          f"indiscernible = SSIM >= {TH.indiscernible_ssim} and MAD <= {TH.indiscernible_mad}")
    print(f"{'kind':20s} {'n':>3s} {'SSIM min..max':>15s} {'MAD min..max':>15s} {'ORB min..max':>13s}  dissimilar  indiscernible")
    for kind, vals in rows.items():
        ss, mm, oo = zip(*vals, strict=True)
        dis = sum(s < TH.ssim_min and o < TH.orb_min for s, _, o in vals)
        ind = sum(s >= TH.indiscernible_ssim and m <= TH.indiscernible_mad for s, m, _ in vals)
        print(f"{kind:20s} {len(vals):3d} {min(ss):7.3f}..{max(ss):5.3f} {min(mm):7.2f}..{max(mm):6.2f} "
              f"{min(oo):6d}..{max(oo):5d}  {dis:4d}/{len(vals):<6d} {ind:6d}/{len(vals)}")
    print(f"{dt * 1000:.0f} ms per pair (SSIM + ORB), {n_pairs} pairs")


if __name__ == "__main__":
    main()
