"""Graded, monotone image degradations: level 0 is the untouched photo, higher levels are strictly worse."""

from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image

# Severity tables, subtle -> clear. A series uses an increasing subset of one table.
LEVELS: dict[str, tuple[float, ...]] = {
    "defocus": (1.2, 2.0, 3.2, 5.0, 8.0),  # disk radius, px at <= 512 px long side
    "motion": (5, 9, 15, 23, 35),  # line length, px
    "noise": (5.0, 9.0, 15.0, 24.0, 38.0),  # Gaussian sigma on 0..255 (luma + chroma)
    "jpeg": (45, 28, 16, 9, 4),  # JPEG quality
    "exposure": (0.6, 1.1, 1.7, 2.3, 3.0),  # EV steps away from the photo's own exposure (with clipping)
    "colour": (0.07, 0.13, 0.2, 0.29, 0.4),  # white-balance gain shift
    "tilt": (1.5, 3.0, 5.0, 8.0, 12.0),  # degrees of rotation (then crop to the same frame)
}
FAMILIES = tuple(LEVELS)


def _disk(radius: float) -> np.ndarray:
    r = int(np.ceil(radius))
    y, x = np.mgrid[-r : r + 1, -r : r + 1]
    k = np.clip(radius + 0.5 - np.sqrt(x * x + y * y), 0.0, 1.0)
    return (k / k.sum()).astype(np.float32)


def _line(length: int, angle_deg: float) -> np.ndarray:
    size = int(length) | 1
    k = np.zeros((size, size), np.float32)
    k[size // 2, :] = 1.0
    rot = cv2.getRotationMatrix2D((size / 2 - 0.5, size / 2 - 0.5), angle_deg, 1.0)
    k = cv2.warpAffine(k, rot, (size, size), flags=cv2.INTER_LINEAR)
    return k / k.sum()


def _to_linear(u8: np.ndarray) -> np.ndarray:
    x = u8.astype(np.float32) / 255.0
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def _to_srgb_u8(lin: np.ndarray) -> np.ndarray:
    lin = np.clip(lin, 0.0, 1.0)
    x = np.where(lin <= 0.0031308, lin * 12.92, 1.055 * np.power(lin, 1 / 2.4) - 0.055)
    return np.clip(np.round(x * 255.0), 0, 255).astype(np.uint8)


def degrade(img: np.ndarray, family: str, level: float, rng: np.random.Generator, params: dict) -> np.ndarray:
    """Apply one degradation at a severity; ``params`` holds per-series fixed choices (angle, direction)."""
    if family == "defocus":
        return cv2.filter2D(img, -1, _disk(level), borderType=cv2.BORDER_REFLECT)
    if family == "motion":
        return cv2.filter2D(img, -1, _line(int(level), params["angle"]), borderType=cv2.BORDER_REFLECT)
    if family == "noise":
        h, w, _ = img.shape
        luma = rng.normal(0.0, level, (h, w, 1))
        chroma = rng.normal(0.0, level * 0.5, (h, w, 3))
        return np.clip(img.astype(np.float32) + luma + chroma, 0, 255).round().astype(np.uint8)
    if family == "jpeg":
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, format="JPEG", quality=int(level))
        return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB")).copy()
    if family == "exposure":
        return _to_srgb_u8(_to_linear(img) * 2.0 ** (params["sign"] * level))
    if family == "colour":
        gains = 1.0 + level * np.asarray(params["direction"], np.float32)
        return _to_srgb_u8(_to_linear(img) * gains[None, None, :])
    if family == "tilt":
        h, w, _ = img.shape
        a = np.deg2rad(abs(level))
        # largest same-aspect frame inside the rotated image, scaled back to the original size
        scale = max((w * np.cos(a) + h * np.sin(a)) / w, (w * np.sin(a) + h * np.cos(a)) / h)
        rot = cv2.getRotationMatrix2D((w / 2, h / 2), params["sign"] * level, scale)
        return cv2.warpAffine(img, rot, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    raise ValueError(f"unknown degradation family {family!r}; choose one of {', '.join(FAMILIES)}")


def series_params(img: np.ndarray, family: str, rng: np.random.Generator) -> dict:
    """Fixed per-series choices, picked so every step makes the photo worse, never better."""
    if family == "motion":
        return {"angle": float(rng.uniform(0, 180))}
    if family == "exposure":
        # darken photos that are already dark, brighten (and clip) photos that are already bright
        luma = float(_to_linear(img).mean())
        return {"sign": -1.0 if luma < 0.18 else 1.0}
    if family == "colour":
        # push further along the photo's own grey-world cast, or a random hue when it is neutral
        mean = _to_linear(img).reshape(-1, 3).mean(0)
        cast = mean / max(float(mean.mean()), 1e-6) - 1.0
        if np.abs(cast).max() < 0.05:
            cast = rng.normal(0, 1, 3)
        cast = cast - cast.mean()
        cast = cast / (np.abs(cast).max() + 1e-9)
        return {"direction": [float(c) for c in cast]}
    if family == "tilt":
        return {"sign": float(rng.choice([-1.0, 1.0]))}
    return {}
