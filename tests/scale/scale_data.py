"""Real photos (skimage.data) packed the way large collections are stored: WebDataset shards and Parquet.

Each series is one photo in a few versions of different quality (sharp, JPEG-compressed, blurred, noisy), as an
AI-image prompt with several generations or a burst; keys are unique across the whole set.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter
from skimage import data

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "motorcycle_left", "immunohistochemistry")


@dataclass(frozen=True)
class Item:
    key: str
    series: str
    jpeg: bytes


def _photo(name: str, side: int) -> Image.Image:
    loader = getattr(data, name, None)
    arr = loader() if loader is not None else data.stereo_motorcycle()[0]
    img = Image.fromarray(np.asarray(arr)).convert("RGB")
    s = side / max(img.size)
    return img.resize((max(1, round(img.width * s)), max(1, round(img.height * s))), Image.Resampling.LANCZOS)


def _version(img: Image.Image, v: int, rng: np.random.Generator) -> bytes:
    if v % 4 == 1:
        img = img.filter(ImageFilter.GaussianBlur(1.5 + v / 4))
    elif v % 4 == 2:
        arr = np.asarray(img, dtype=np.float64) + rng.normal(0, 12 + v, (img.height, img.width, 3))
        img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=40 if v % 4 == 3 else 90)
    return buf.getvalue()


def make_items(n_series: int = 6, per_series: int = 4, *, side: int = 96, seed: int = 0) -> list[Item]:
    """n_series x per_series small JPEG versions of real photos, grouped by series (prompt) in key order."""
    rng = np.random.default_rng(seed)
    items = []
    for s in range(n_series):
        base = _photo(PHOTOS[s % len(PHOTOS)], side + 8 * (s // len(PHOTOS)))
        for v in range(per_series):
            items.append(Item(f"{s:03d}{v:03d}", f"prompt-{s:03d}", _version(base, v, rng)))
    return items


def write_shards(folder: Path, items: list[Item], per_shard: int) -> list[Path]:
    """WebDataset shards 00000.tar, 00001.tar ... with <key>.jpg and <key>.json ({"series": ...}) members."""
    import webdataset as wds

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(0, len(items), per_shard):
        p = folder / f"{i // per_shard:05d}.tar"
        with wds.TarWriter(str(p)) as w:
            for it in items[i : i + per_shard]:
                w.write({"__key__": it.key, "jpg": it.jpeg, "json": json.dumps({"series": it.series}).encode()})
        paths.append(p)
    return paths


def write_parquet(path: Path, items: list[Item], row_group_size: int) -> Path:
    """A Parquet file with columns key, prompt_id (the series) and image (encoded bytes)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"key": [it.key for it in items], "prompt_id": [it.series for it in items],
                      "image": pa.array([it.jpeg for it in items], pa.binary())})
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, row_group_size=row_group_size)
    return path


def write_folder(folder: Path, items: list[Item]) -> list[Path]:
    """The same images as files, one sub-folder per series."""
    paths = []
    for it in items:
        p = folder / it.series / f"{it.key}.jpg"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(it.jpeg)
        paths.append(p)
    return paths
