"""Build the native-resolution known-order benchmark: ``python -m benchmarks.known_order.build_native --out DIR``.

Series = a real photo kept at its own pixels + 2–4 graded copies of one family of `fgaesq.evaluate.native_series`
(levels drawn per series). Bases: every wallpaper photograph (native_sources; reduced to <= 2560 px on the long
side when larger) plus, for photos of >= 6 MP, an unreduced 2048×1536 crop of the camera's own pixels (a second
crop for >= 12 MP); and the small photo sets (CLIVE, scikit-image, opencv-doc) at their native size. Splits by
source photo (every base and series of a photo in one split). Deterministic for the same sources and seed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.data_sources import clive_dir
from benchmarks.known_order.native_sources import native_sources
from benchmarks.known_order.sources import clive_sources, clive_train_sources, opencv_sources, skimage_sources
from fgaesq.evaluate.known_order import SPLITS, split_of
from fgaesq.evaluate.native_series import FAMILIES, make_series

FULL_SIDE = 2560
CROP = (2048, 1536)
FAMILIES_PER_BIG, FAMILIES_PER_SMALL = 3, 2


def bases(arr: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """(suffix, pixels) bases of one big photo: the whole photo (<= FULL_SIDE) and native crops of large ones."""
    img = Image.fromarray(arr)
    w, h = img.size
    out = []
    if max(w, h) > FULL_SIDE:
        s = FULL_SIDE / max(w, h)
        out.append(("full", np.asarray(img.resize((round(w * s), round(h * s)), Image.Resampling.LANCZOS))))
    else:
        out.append(("full", arr))
    cw, ch = CROP if w >= h else CROP[::-1]
    if w * h >= 6e6 and w > cw and h > ch:
        centres = [(w / 2, h / 2)] + ([(w / 3, h / 3)] if w * h >= 12e6 else [])
        for i, (cx, cy) in enumerate(centres):
            x0, y0 = int(min(max(cx - cw / 2, 0), w - cw)), int(min(max(cy - ch / 2, 0), h - ch))
            out.append((f"crop{i}", np.ascontiguousarray(arr[y0 : y0 + ch, x0 : x0 + cw])))
    return out


def extra_families(fams: list[str], total: int) -> list[str]:
    """Families added to a train base's regular ``fams`` (next in FAMILIES order after them) up to ``total``."""
    start = FAMILIES.index(fams[-1]) + 1
    rest = [FAMILIES[(start + i) % len(FAMILIES)] for i in range(len(FAMILIES))]
    return [f for f in rest if f not in fams][: max(0, total - len(fams))]


def build(
    out: Path, *, clive_limit: int = 40, seed: int = 0, small: bool = True, train_families: int = 0,
    train_clive: int = 0, train_shift: int = 0,
) -> dict:
    """Build every split under ``out``; returns the manifest (also written to ``out/manifest.json``).

    ``train_families`` > 0: every train base gets series of that many families (its regular ones first, then
    extra ones); ``train_clive`` > 0: that many more CLIVE photos (outside the coarse validation split) become
    train-only bases of 2 families each; ``train_shift`` > 0: train bases start that many px into the photo on
    both axes, so a JPEG lattice the source photo carries (CLIVE's q75 JPEGs) leaves the 8-px grid: otherwise the
    clean frame is the only one of its series that shows one (blur, noise and resampling erase it), and a
    measured quantisation step would be taught to favour compressed photos. Val and test are exactly as
    without any of these."""
    if train_shift < 0 or (train_shift and train_shift % 8 == 0):
        raise ValueError(f"train_shift {train_shift}: use 1-7 px (a multiple of 8 keeps the lattice on the grid)")
    big = native_sources()
    little = (clive_sources(clive_limit) + skimage_sources() + opencv_sources()) if small else []
    extra_train = clive_train_sources(train_clive, skip=clive_limit if small else 0)
    if not big and not little:
        raise SystemExit("no source photos: apt-get install -y lomiri-wallpapers mate-backgrounds (or CLIVE/skimage)")
    out.mkdir(parents=True, exist_ok=True)
    for old in out.iterdir():  # replaced, except the descriptor cache (keyed by pixels, so still valid)
        if old.name != "cache":
            shutil.rmtree(old) if old.is_dir() else old.unlink()
    records: dict[str, list[dict]] = {name: [] for name, _ in SPLITS}
    t0, n_base = time.time(), 0
    extra_ids: list[str] = []
    every = big + little + extra_train
    splits = [split_of(s.id, seed) for s in big + little] + ["train"] * len(extra_train)
    for idx, src in enumerate(every):
        arr = np.ascontiguousarray(np.asarray(src.load())[..., :3]).astype(np.uint8)
        split = splits[idx]
        per = FAMILIES_PER_BIG if idx < len(big) else FAMILIES_PER_SMALL
        for suffix, base in bases(arr) if idx < len(big) else [("full", arr)]:
            if split == "train" and train_shift:
                base = np.ascontiguousarray(base[train_shift:, train_shift:])
            fams = [FAMILIES[(n_base * per + f) % len(FAMILIES)] for f in range(per)]
            n_base += 1
            regular_train = split == "train" and idx < len(big) + len(little)
            extra = extra_families(fams, train_families) if regular_train else []
            fams += extra
            for fam in fams:
                records[split].append(make_series(f"{src.id}/{suffix}", src.id, base, fam, seed, out / split))
                if fam in extra:
                    extra_ids.append(records[split][-1]["series"])
            print(f"[{idx + 1}/{len(every)}] {src.id}/{suffix} {base.shape[1]}x{base.shape[0]} -> {split}: "
                  f"{', '.join(fams)} ({time.time() - t0:.0f} s)", flush=True)  # fmt: skip
    for split, recs in records.items():
        (out / split).mkdir(exist_ok=True)
        with (out / split / "series.jsonl").open("w", encoding="utf-8") as fh:
            for rec in recs:
                fh.write(json.dumps(rec, sort_keys=True) + "\n")
    manifest = {
        "seed": seed,
        "clive_limit": clive_limit,
        "train_clive": len(extra_train),
        "train_families": train_families,
        "train_shift": train_shift,
        "extra_series": extra_ids,  # train series beyond the regular families (not in the held-out-source figure)
        "families": list(FAMILIES),
        "splits": {s: {"series": len(r), "images": sum(len(x["images"]) for x in r)} for s, r in records.items()},
        "origins_used": sorted({s.origin for s in every}),
        "sources": [{"id": s.id, "origin": s.origin, "licence": s.licence, "split": sp}
                    for s, sp in zip(every, splits, strict=True)],  # fmt: skip
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    notice = clive_dir() / "LIVE-NOTICE.txt"
    if "clive" in manifest["origins_used"] and notice.is_file():
        shutil.copy(notice, out / "LIVE-NOTICE.txt")
    return manifest


def main() -> None:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("benchmarks/known_order/native"), help="output folder (replaced)")
    ap.add_argument("--clive", type=int, default=40, help="how many CLIVE photos to use (default 40)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-small", action="store_true", help="wallpaper photographs only")
    ap.add_argument("--train-families", type=int, default=0,
                    help="series of this many families per train base (default: as val/test, 3 big / 2 small)")
    ap.add_argument("--train-clive", type=int, default=0,
                    help="this many more CLIVE photos (not in the coarse validation split) as train-only bases")
    ap.add_argument("--train-shift", type=int, default=0,
                    help="train bases start this many px into the photo (not a multiple of 8: a JPEG lattice the "
                    "source carries leaves the 8-px grid)")
    args = ap.parse_args()
    m = build(args.out, clive_limit=args.clive, seed=args.seed, small=not args.no_small,
              train_families=args.train_families, train_clive=args.train_clive, train_shift=args.train_shift)  # fmt: skip
    print(json.dumps(m["splits"]), "sources:", ", ".join(m["origins_used"]))


if __name__ == "__main__":
    main()
