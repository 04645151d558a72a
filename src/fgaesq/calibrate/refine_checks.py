"""Image checks of Series Refinement: similarity, duplicates, defects, crop overlap.

All thresholds live in `Thresholds`; the paper gives none, so the defaults are
project choices, measured on skimage.data photos (docs/dataset-tooling.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from skimage.metrics import structural_similarity

from fgaesq.calibrate.defaults import DEFAULTS, Thresholds
from fgaesq.io import load_image

SIM_SIDE = 256  # long side for SSIM / mean-abs-difference
ORB_SIDE = 512  # long side for ORB matching




def _resize_long(img: np.ndarray, side: int) -> np.ndarray:
    h, w = img.shape[:2]
    s = side / max(h, w)
    if s >= 1:
        return img
    return cv2.resize(img, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)


def to_gray(rgb: np.ndarray) -> np.ndarray:
    """uint8 grey image from an RGB uint8 array."""
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def load_rgb(path: str) -> np.ndarray:
    """An image file as an RGB uint8 array at full size, decoded by `fgaesq.io.load_image` (raises ImageError)."""
    return np.asarray(load_image(path, max_size=None))


def defect_reason(rgb: np.ndarray, th: Thresholds = DEFAULTS) -> str:
    """Why a frame is defective ('black', 'white', 'blank', 'broken: …'), or '' when it looks fine."""
    g = to_gray(_resize_long(rgb, SIM_SIDE)).astype(np.float32)
    mean, std = float(g.mean()), float(g.std())
    if mean <= th.dark_max:
        return f"black frame (mean brightness {mean:.1f} ≤ {th.dark_max})"
    if mean >= th.bright_min:
        return f"white frame (mean brightness {mean:.1f} ≥ {th.bright_min})"
    if std <= th.flat_std:
        return f"blank frame (brightness std {std:.1f} ≤ {th.flat_std})"
    # truncated / grossly broken: a run of identical flat rows at the bottom (grey fill of a cut-off decode)
    full = to_gray(rgb).astype(np.float32)
    flat = (full.std(axis=1) < 1.0) & (np.abs(np.diff(full.mean(axis=1), append=full[-1].mean())) < 1.0)
    run = 0
    for is_flat in flat[::-1]:
        if not is_flat:
            break
        run += 1
    frac = run / full.shape[0]
    if frac >= th.broken_rows:
        return f"broken frame ({frac:.0%} of rows at the bottom are one flat colour)"
    return ""


def _same_size(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = _resize_long(a, SIM_SIDE)
    b = cv2.resize(b, (a.shape[1], a.shape[0]), interpolation=cv2.INTER_AREA)
    return a, b


def ssim_mad(a_rgb: np.ndarray, b_rgb: np.ndarray) -> tuple[float, float]:
    """SSIM of downscaled grey images and mean absolute RGB difference (0-255), b resized to a's size."""
    a, b = _same_size(a_rgb, b_rgb)
    ga, gb = to_gray(a), to_gray(b)
    win = min(7, min(ga.shape) // 2 * 2 - 1)
    ssim = float(structural_similarity(ga, gb, data_range=255, win_size=max(3, win)))
    mad = float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())
    return ssim, mad


MATCHERS = ("sift", "orb")


@dataclass
class Features:
    """Keypoint positions and descriptors of one image at ORB_SIDE px (for geometric matching)."""

    matcher: str
    xy: np.ndarray  # (N, 2) float32
    desc: np.ndarray | None


def features(rgb: np.ndarray, matcher: str = "sift") -> Features:
    """Detect up to 1000 SIFT or ORB keypoints on the grey image downscaled to ORB_SIDE px."""
    if matcher not in MATCHERS:
        raise ValueError(f"matcher must be one of {'|'.join(MATCHERS)}, got {matcher!r}")
    det = cv2.SIFT_create(nfeatures=1000) if matcher == "sift" else cv2.ORB_create(nfeatures=1000)
    kps, desc = det.detectAndCompute(to_gray(_resize_long(rgb, ORB_SIDE)), None)
    xy = np.float32([k.pt for k in kps]).reshape(-1, 2)
    return Features(matcher, xy, desc)


def count_matches(fa: Features, fb: Features) -> int:
    """Geometrically verified matches: Lowe ratio 0.75, then RANSAC-homography inliers (5 px)."""
    if fa.desc is None or fb.desc is None or len(fa.xy) < 2 or len(fb.xy) < 2:
        return 0
    norm = cv2.NORM_L2 if fa.matcher == "sift" else cv2.NORM_HAMMING
    knn = cv2.BFMatcher(norm).knnMatch(fa.desc, fb.desc, k=2)
    good = [m[0] for m in knn if len(m) == 2 and m[0].distance < 0.75 * m[1].distance]
    if len(good) < 8:
        return len(good)
    src = fa.xy[[m.queryIdx for m in good]].reshape(-1, 1, 2)
    dst = fb.xy[[m.trainIdx for m in good]].reshape(-1, 1, 2)
    _, mask = cv2.findHomography(src, dst, cv2.RANSAC, 5.0)
    return 0 if mask is None else int(mask.sum())


def feature_matches(a_rgb: np.ndarray, b_rgb: np.ndarray, matcher: str = "sift") -> int:
    """Verified keypoint matches between two RGB images (see count_matches)."""
    return count_matches(features(a_rgb, matcher), features(b_rgb, matcher))


def box_iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0
