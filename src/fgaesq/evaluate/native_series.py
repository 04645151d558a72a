"""Known-order series at native resolution: one real photo (>= 2 MP) + graded copies, severities drawn per series.

The harder benchmark of fgaesq-lite 2 (``python -m benchmarks.known_order.build_native``). Unlike
`fgaesq.evaluate.known_order` (512 px, a fixed ladder of levels), the photo keeps its pixels, the degradations
are the subtle ones that separate the frames of a burst, and each series draws its own levels from a continuous
range with a minimum spacing, so no fixed ladder can be memorised:

- ``focus``: Gaussian blur σ 0.5–3 px at full resolution;
- ``motion``: linear motion blur 3–21 px at a per-series angle;
- ``noise``: signal-dependent (Poisson-Gaussian) sensor noise in linear light, σ 1.5–20 (8-bit units at mid grey);
- ``exposure``: under- or over-exposure in linear light, ⅓–2 EV (the sign drawn per series), with clipping;
- ``jpeg``: the lossless original against JPEG recompressions at quality 95–30 (the file carries the loss);
- ``colour``: white-balance cast in linear light, gain shift 0.04–0.35;
- ``tilt``: rotation 0.4–6° cropped back to the frame;
- ``mixed``: two of exposure / focus / motion / noise / jpeg, both growing together (camera order).

Level 0 (the photo) is best and every step is strictly worse by construction.
"""

from __future__ import annotations

import hashlib
import io
import math
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

#: (low, high, log-spaced) severity range of each family.
RANGES: dict[str, tuple[float, float, bool]] = {
    "focus": (0.5, 3.0, True),
    "motion": (3.0, 21.0, True),
    "noise": (1.5, 20.0, True),
    "exposure": (1 / 3, 2.0, False),
    "jpeg": (95.0, 30.0, False),  # quality: high -> low
    "colour": (0.04, 0.35, True),
    "tilt": (0.4, 6.0, True),
}
FAMILIES = (*RANGES, "mixed")
MIX_PARTS = ("exposure", "focus", "motion", "noise", "jpeg")  # applied in this (camera) order
MIN_GAP = 0.15  # minimum spacing of consecutive levels, in the unit range of RANGES

_LIN = np.where(np.arange(256) / 255.0 <= 0.04045, np.arange(256) / 255.0 / 12.92,
                ((np.arange(256) / 255.0 + 0.055) / 1.055) ** 2.4).astype(np.float32)  # fmt: skip
_q = np.arange(65536) / 65535.0
_SRGB = np.clip(np.round(255 * np.where(_q <= 0.0031308, _q * 12.92, 1.055 * _q ** (1 / 2.4) - 0.055)), 0, 255
                ).astype(np.uint8)  # fmt: skip


def to_linear(u8: np.ndarray) -> np.ndarray:
    """sRGB uint8 -> linear float32 in [0, 1]."""
    return _LIN[u8]


def to_srgb(lin: np.ndarray) -> np.ndarray:
    """Linear float (clipped to [0, 1]) -> sRGB uint8."""
    return _SRGB[(np.clip(lin, 0.0, 1.0) * 65535.0 + 0.5).astype(np.uint16)]


def severity(family: str, t: float) -> float:
    """Severity of ``family`` at position t in [0, 1] of its range."""
    lo, hi, log = RANGES[family]
    return float(math.exp(math.log(lo) + t * (math.log(hi) - math.log(lo)))) if log else float(lo + t * (hi - lo))


def _line(length: float, angle: float) -> np.ndarray:
    size = int(math.ceil(length)) | 1
    k = np.zeros((size, size), np.float32)
    c = size // 2
    half = length / 2
    for x in range(size):
        d = abs(x - c)
        k[c, x] = float(np.clip(half + 0.5 - d, 0.0, 1.0))
    rot = cv2.getRotationMatrix2D((c, c), angle, 1.0)
    k = cv2.warpAffine(k, rot, (size, size), flags=cv2.INTER_LINEAR)
    return k / k.sum()


def apply(img: np.ndarray, family: str, level: float, rng: np.random.Generator, params: dict) -> np.ndarray:
    """One degradation of an RGB uint8 photo at a severity (for ``jpeg`` the pixels of the recompressed file)."""
    if family == "focus":
        return cv2.GaussianBlur(img, (0, 0), sigmaX=level, borderType=cv2.BORDER_REFLECT)
    if family == "motion":
        return cv2.filter2D(img, -1, _line(level, params["angle"]), borderType=cv2.BORDER_REFLECT)
    if family == "noise":
        lin = to_linear(img)
        sigma_mid = level / 255.0 / 1.194  # sRGB slope at 18 % grey: 8-bit sigma at mid grey -> linear sigma
        gain = sigma_mid**2 * (1 - params["read"]) / 0.18  # shot-noise share; read noise floor is the rest
        var = gain * lin + sigma_mid**2 * params["read"]
        h, w, _ = img.shape
        n = rng.standard_normal((h, w, 3), dtype=np.float32) * 0.8 + rng.standard_normal((h, w, 1), dtype=np.float32) * 0.6
        return to_srgb(lin + n * np.sqrt(var))
    if family == "exposure":
        return to_srgb(to_linear(img) * np.float32(2.0 ** (params["sign"] * level)))
    if family == "jpeg":
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, format="JPEG", quality=int(round(level)), subsampling=params.get("sub", 2))
        return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    if family == "colour":
        gains = 1.0 + level * np.asarray(params["direction"], np.float32)
        return to_srgb(to_linear(img) * gains[None, None, :])
    if family == "tilt":
        h, w, _ = img.shape
        a = math.radians(level)
        scale = max((w * math.cos(a) + h * math.sin(a)) / w, (w * math.sin(a) + h * math.cos(a)) / h)
        rot = cv2.getRotationMatrix2D((w / 2, h / 2), params["sign"] * level, scale)
        return cv2.warpAffine(img, rot, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    raise ValueError(f"unknown family {family!r}; choose one of {', '.join(FAMILIES)}")


def series_params(img: np.ndarray, family: str, rng: np.random.Generator) -> dict:
    """Per-series fixed choices (direction, sign, noise mix, mixture parts)."""
    p: dict = {"angle": float(rng.uniform(0, 180)), "sign": float(rng.choice([-1.0, 1.0])),
               "read": float(rng.uniform(0.1, 0.5)), "sub": int(rng.choice([0, 2]))}  # fmt: skip
    if family == "colour":
        d = rng.normal(0, 1, 3)
        d -= d.mean()
        p["direction"] = [float(v) for v in d / (np.abs(d).max() + 1e-9)]
    if family == "mixed":
        parts = sorted(rng.choice(len(MIX_PARTS), size=2, replace=False).tolist())
        p["parts"] = [MIX_PARTS[i] for i in parts]
    return p


def draw_levels(rng: np.random.Generator, k: int) -> list[float]:
    """k increasing positions in (0, 1] with spacing >= MIN_GAP (first at >= 0), drawn per series."""
    while True:
        t = np.sort(rng.uniform(0.0, 1.0, k))
        if np.all(np.diff(np.concatenate([[-MIN_GAP], t])) >= MIN_GAP):
            return [float(v) for v in t]


def degrade(img: np.ndarray, family: str, t: float, rng: np.random.Generator, params: dict) -> tuple[np.ndarray, int | None]:
    """The photo degraded at position t of the family's range -> (pixels, JPEG quality of the file or None)."""
    if family != "mixed":
        if family == "jpeg":
            return img, int(round(severity("jpeg", t)))
        return apply(img, family, severity(family, t), rng, params), None
    out, quality = img, None
    for part in params["parts"]:
        if part == "jpeg":
            quality = int(round(severity("jpeg", t)))
        else:
            out = apply(out, part, severity(part, t), rng, params)
    return out, quality


def _hash01(text: str, seed: int) -> float:
    return int.from_bytes(hashlib.sha256(f"{seed}:{text}".encode()).digest()[:8], "big") / 2**64


def make_series(base_id: str, source_id: str, base: np.ndarray, family: str, seed: int, out_dir: Path) -> dict:
    """Write one series (step 0 = the photo, lossless PNG where a JPEG copy competes) and return its record."""
    sid = f"{base_id.replace('/', '-').replace('.', '_')}-{family}"
    rng = np.random.default_rng(int(_hash01(sid, seed) * 2**32))
    k = int(rng.integers(2, 5))  # 2..4 degraded levels -> 3..5 images
    ts = draw_levels(rng, k)
    params = series_params(base, family, rng)
    folder = out_dir / "images" / sid
    folder.mkdir(parents=True, exist_ok=True)
    names, levels = [], []
    lossless = family == "jpeg" or "jpeg" in params.get("parts", ())
    for step, t in enumerate([None, *ts]):
        arr, quality = (base, None) if t is None else degrade(base, family, t, rng, params)
        if quality is not None:
            name = f"{sid}/{sid}-{step}.jpg"
            Image.fromarray(arr).save(out_dir / "images" / name, quality=quality, subsampling=params["sub"])
        elif lossless:
            name = f"{sid}/{sid}-{step}.png"
            Image.fromarray(arr).save(out_dir / "images" / name, compress_level=1)
        else:
            name = f"{sid}/{sid}-{step}.jpg"
            Image.fromarray(arr).save(out_dir / "images" / name, quality=97, subsampling=0)
        names.append(name)
        if t is not None:
            levels.append(round(t, 4))
    order = rng.permutation(len(names)).tolist()
    pairs = []
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            a, b, p = (names[i], names[j], 1.0) if rng.random() < 0.5 else (names[j], names[i], 0.0)
            pairs.append({"a": f"images/{a}", "b": f"images/{b}", "p": p})
    return {
        "series": sid,
        "category": family,
        "images": [f"images/{names[i]}" for i in order],
        "ranking": [f"images/{n}" for n in names],
        "pairs": pairs,
        "source": source_id,
        "base": base_id,
        "levels": levels,
        "severities": [round(severity(family, t), 3) if family != "mixed" else
                       {q: round(severity(q, t), 3) for q in params["parts"]} for t in ts],  # fmt: skip
    }
