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
from pathlib import Path

import numpy as np
import skimage.data as skd
from PIL import Image, ImageFilter

from fgaesq.calibrate.defaults import DEFAULTS as TH
from fgaesq.calibrate.refine_checks import MATCHERS, count_matches, features, load_rgb, ssim_mad

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


OPENCV_DOC = Path("/usr/share/doc/opencv-doc/examples/data")
SAME_SCENE = [(f"left0{k}.jpg", f"right0{k}.jpg") for k in range(1, 10)] + [
    ("aloeL.jpg", "aloeR.jpg"), ("leuvenA.jpg", "leuvenB.jpg"), ("graf1.png", "graf3.png"),
    ("aero1.jpg", "aero3.jpg"), ("basketball1.png", "basketball2.png"), ("left.jpg", "right.jpg"),
    ("Blender_Suzanne1.jpg", "Blender_Suzanne2.jpg"),
]
DISTINCT = ["left01.jpg", "aloeL.jpg", "leuvenA.jpg", "graf1.png", "aero1.jpg", "basketball1.png",
            "Blender_Suzanne1.jpg", "baboon.jpg", "messi5.jpg", "fruits.jpg", "building.jpg", "home.jpg",
            "butterfly.jpg", "orange.jpg", "HappyFish.jpg", "box_in_scene.png", "pic1.png"]


def measure(rows: dict, kind: str, a: np.ndarray, b: np.ndarray, fa: dict, fb: dict) -> None:
    s, m = ssim_mad(a, b)
    rows.setdefault(kind, []).append((s, m, {k: count_matches(fa[k], fb[k]) for k in MATCHERS}))


def feats(x: np.ndarray) -> dict:
    return {k: features(x, k) for k in MATCHERS}


def main() -> None:
    """Print the table."""
    rows: dict[str, list] = {}
    t0, n_pairs = time.perf_counter(), 0
    imgs = {n: rgb(getattr(skd, n)()) for n in PHOTOS}
    f_imgs = {n: feats(x) for n, x in imgs.items()}
    for x in imgs.values():
        base = crop(x, 0)
        fbase = feats(base)
        for kind, y in variants(x).items():
            measure(rows, kind, base, y, fbase, feats(y))
            n_pairs += 1
    left, right, _ = skd.stereo_motorcycle()
    measure(rows, "stereo motorcycle", left, right, feats(left), feats(right))
    for a, b in itertools.combinations(PHOTOS, 2):
        measure(rows, "different photos", imgs[a], imgs[b], f_imgs[a], f_imgs[b])
        n_pairs += 1
    if OPENCV_DOC.is_dir():
        cache: dict = {}

        def get(name: str) -> tuple[np.ndarray, dict]:
            if name not in cache:
                x = load_rgb(str(OPENCV_DOC / name))
                cache[name] = (x, feats(x))
            return cache[name]

        for a, b in SAME_SCENE:
            (xa, fa), (xb, fb) = get(a), get(b)
            measure(rows, "opencv-doc same scene", xa, xb, fa, fb)
            n_pairs += 1
        for a, b in itertools.combinations(DISTINCT, 2):
            (xa, fa), (xb, fb) = get(a), get(b)
            measure(rows, "opencv-doc different", xa, xb, fa, fb)
            n_pairs += 1
    else:
        print(f"(Debian opencv-doc not installed: {OPENCV_DOC} missing, its rows are left out)")
    dt = (time.perf_counter() - t0) / n_pairs
    print(f"defaults: dissimilar = SSIM < {TH.ssim_min} and matches < {TH.min_matches} ({TH.matcher}); "
          f"indiscernible = SSIM >= {TH.indiscernible_ssim} and MAD <= {TH.indiscernible_mad}")
    print(f"{'kind':22s} {'n':>3s} {'SSIM':>12s} {'MAD':>13s} {'SIFT matches':>12s} {'ORB matches':>11s}"
          "  dissimilar(sift/orb) indiscernible")
    for kind, vals in rows.items():
        ss = [v[0] for v in vals]
        mm = [v[1] for v in vals]
        sift = [v[2]["sift"] for v in vals]
        orb = [v[2]["orb"] for v in vals]
        dis = {k: sum(v[0] < TH.ssim_min and v[2][k] < TH.min_matches for v in vals) for k in MATCHERS}
        ind = sum(v[0] >= TH.indiscernible_ssim and v[1] <= TH.indiscernible_mad for v in vals)
        print(f"{kind:22s} {len(vals):3d} {min(ss):5.3f}..{max(ss):5.3f} {min(mm):5.1f}..{max(mm):6.1f} "
              f"{min(sift):5d}..{max(sift):5d} {min(orb):4d}..{max(orb):5d}  "
              f"{dis['sift']:3d}/{dis['orb']:<3d} of {len(vals):<6d} {ind:3d}")
    print(f"{dt * 1000:.0f} ms per pair (SSIM + both matchers, features cached per image), {n_pairs} pairs")


if __name__ == "__main__":
    main()
