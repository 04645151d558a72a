"""Known-order series: one real photo + graded copies of one degradation family (true order by construction).

Used by the benchmark builder (``python -m benchmarks.known_order.build``) and by the tests.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from PIL import Image

from fgaesq.evaluate.degrade import FAMILIES, LEVELS, degrade, series_params

__all__ = ["FAMILIES", "LEVELS", "MAX_SIDE", "SPLITS", "make_series", "prepare_photo", "split_of"]

MAX_SIDE = 512
SPLITS = (("test", 0.25), ("val", 0.15), ("train", 0.60))


def _hash01(text: str, seed: int) -> float:
    h = hashlib.sha256(f"{seed}:{text}".encode()).digest()
    return int.from_bytes(h[:8], "big") / 2**64


def split_of(source_id: str, seed: int) -> str:
    """Assign a source photo (and every series made from it) to one split."""
    u, acc = _hash01(source_id, seed), 0.0
    for name, share in SPLITS:
        acc += share
        if u < acc:
            return name
    return SPLITS[-1][0]


def prepare_photo(arr: np.ndarray) -> np.ndarray:
    """A source photo as RGB uint8 with its long side at most MAX_SIDE (Lanczos)."""
    a = np.asarray(arr)
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    img = Image.fromarray(np.ascontiguousarray(a[..., :3]).astype(np.uint8))
    w, h = img.size
    if max(w, h) > MAX_SIDE:
        s = MAX_SIDE / max(w, h)
        img = img.resize((max(1, round(w * s)), max(1, round(h * s))), Image.Resampling.LANCZOS)
    return np.asarray(img.convert("RGB")).copy()


def _save(arr: np.ndarray, path: Path, family: str, level: float | None) -> None:
    img = Image.fromarray(arr)
    if family == "jpeg" and level is not None:
        img.save(path, format="JPEG", quality=int(level))  # the file itself carries the degradation
    else:
        img.save(path, format="JPEG", quality=95, subsampling=0)


def make_series(source_id: str, base: np.ndarray, family: str, seed: int, out_dir: Path) -> dict:
    """Write one series' images and return its JSONL record."""
    sid = f"{source_id.replace('/', '-').replace('.', '_')}-{family}"
    rng = np.random.default_rng(int(_hash01(sid, seed) * 2**32))
    k = int(rng.integers(2, 6))  # 2..5 degraded levels -> 3..6 images
    levels = sorted(rng.choice(len(LEVELS[family]), size=k, replace=False).tolist())
    params = series_params(base, family, rng)
    folder = out_dir / "images" / sid
    folder.mkdir(parents=True, exist_ok=True)
    names, steps = [], []
    for step, li in enumerate([None, *levels]):
        arr = base if li is None else degrade(base, family, LEVELS[family][li], rng, params)
        name = f"{sid}/{sid}-{step}.jpg"
        _save(arr, out_dir / "images" / name, family, None if li is None else LEVELS[family][li])
        names.append(name)
        steps.append(0 if li is None else li + 1)
    order = rng.permutation(len(names)).tolist()  # list images shuffled: file order must not leak the answer
    images = [names[i] for i in order]
    pairs = []
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            a, b = (names[i], names[j]) if rng.random() < 0.5 else (names[j], names[i])
            p = 1.0 if steps[names.index(a)] < steps[names.index(b)] else 0.0
            pairs.append({"a": f"images/{a}", "b": f"images/{b}", "p": p})
    return {
        "series": sid,
        "category": family,
        "images": [f"images/{n}" for n in images],
        "ranking": [f"images/{n}" for n in names],
        "pairs": pairs,
        "source": source_id,
        "levels": [LEVELS[family][li] for li in levels],
    }
