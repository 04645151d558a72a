"""Small real-photo data sets for the training tests (skimage.data photos, CLIVE photos)."""

from __future__ import annotations

import json
from pathlib import Path

import skimage.data as sd
from PIL import Image, ImageEnhance, ImageFilter

PHOTOS = ["astronaut", "chelsea", "coffee", "rocket", "cat", "immunohistochemistry", "retina", "camera"]


def make_series(root: Path, n_series: int = 8, size: tuple[int, int] = (128, 96), blurs=(0.0, 3.0),
                texts: bool = False, darken: float = 0.0) -> Path:
    """n_series series of one photo at increasing blur (sharpest = best), each step also `darken` darker
    (under-exposure); returns the JSONL path."""
    root.mkdir(parents=True, exist_ok=True)
    lines = []
    for k in range(n_series):
        im = Image.fromarray(getattr(sd, PHOTOS[k % len(PHOTOS)])()).convert("RGB").resize(size)
        files = []
        for lvl, r in enumerate(blurs):
            f = f"s{k}_{lvl}.png"
            step = im.filter(ImageFilter.GaussianBlur(r)) if r else im
            if darken:
                step = ImageEnhance.Brightness(step).enhance(1.0 - darken * lvl)
            step.save(root / f)
            files.append(f)
        pairs = []
        for i in range(len(files)):
            for j in range(i + 1, len(files)):
                pr = {"a": files[i], "b": files[j], "p": 0.9}
                if texts:
                    pr["text"] = "the first photo is much sharper, with crisper detail"
                pairs.append(pr)
        lines.append({"series": f"s{k}", "category": "natural", "images": files, "ranking": files, "pairs": pairs})
    out = root / "series.jsonl"
    out.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return out


def make_coarse(root: Path, clive_dir: Path, n: int = 8) -> Path:
    """A CLIVE-layout CSV (image,mos,mos_std) of the first n CLIVE photos, resized to 96 px for speed."""
    root.mkdir(parents=True, exist_ok=True)
    rows = (clive_dir / "labels.csv").read_text().splitlines()[1 : n + 1]
    out = ["image,mos,mos_std"]
    for row in rows:
        name, mos, std = row.split(",")
        Image.open(clive_dir / "images" / name).convert("RGB").resize((96, 96)).save(root / Path(name).with_suffix(".png").name)
        out.append(f"{Path(name).with_suffix('.png').name},{mos},{std}")
    p = root / "coarse.csv"
    p.write_text("\n".join(out) + "\n")
    return p
