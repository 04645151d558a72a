"""Build the known-order benchmark: ``python -m benchmarks.known_order.build --out DIR``.

Each series = one real photo plus graded versions of one degradation family (level 0 = the photo, each step
strictly worse), so the true order is known by construction. Splits are by source photo. Deterministic:
the same sources and seed give byte-identical JSONL and images.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.known_order.degrade import FAMILIES, LEVELS, degrade, series_params
from benchmarks.known_order.sources import Source, all_sources
from fgaesq.paths import shared_dir

FAMILIES_PER_SOURCE = 3
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


def _prepare(src: Source) -> np.ndarray:
    img = Image.fromarray(np.ascontiguousarray(src.load()[..., :3]).astype(np.uint8))
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


def make_series(src: Source, base: np.ndarray, family: str, seed: int, out_dir: Path, split: str) -> dict:
    """Write one series' images and return its JSONL record."""
    sid = f"{src.id.replace('/', '-').replace('.', '_')}-{family}"
    rng = np.random.default_rng(int(_hash01(sid, seed) * 2**32))
    k = int(rng.integers(2, 6))  # 2..5 degraded levels -> 3..6 images
    levels = sorted(rng.choice(len(LEVELS[family]), size=k, replace=False).tolist())
    params = series_params(base, family, rng)
    folder = out_dir / split / "images" / sid
    folder.mkdir(parents=True, exist_ok=True)
    names, steps = [], []
    for step, li in enumerate([None, *levels]):
        arr = base if li is None else degrade(base, family, LEVELS[family][li], rng, params)
        name = f"{sid}/{sid}-{step}.jpg"
        _save(arr, out_dir / split / "images" / name, family, None if li is None else LEVELS[family][li])
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
        "source": src.id,
        "levels": [LEVELS[family][li] for li in levels],
    }


def build(out: Path, *, clive_limit: int = 60, seed: int = 0) -> dict:
    """Build every split under ``out``; returns the manifest (also written to ``out/manifest.json``)."""
    sources = all_sources(clive_limit)
    if not sources:
        raise SystemExit("no source photos found: need ../shared/data/clive, scikit-image, or Debian opencv-doc")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    records: dict[str, list[dict]] = {name: [] for name, _ in SPLITS}
    for idx, src in enumerate(sources):
        base = _prepare(src)
        split = split_of(src.id, seed)
        fams = [FAMILIES[(idx * FAMILIES_PER_SOURCE + f) % len(FAMILIES)] for f in range(FAMILIES_PER_SOURCE)]
        for fam in fams:
            records[split].append(make_series(src, base, fam, seed, out, split))
        print(f"[{idx + 1}/{len(sources)}] {src.id} -> {split}: {', '.join(fams)}", flush=True)
    for split, recs in records.items():
        with (out / split / "series.jsonl").open("w", encoding="utf-8") as fh:
            for rec in recs:
                fh.write(json.dumps(rec, sort_keys=True) + "\n")
    manifest = {
        "seed": seed,
        "clive_limit": clive_limit,
        "max_side": MAX_SIDE,
        "levels": LEVELS,
        "families_per_source": FAMILIES_PER_SOURCE,
        "splits": {s: {"series": len(r), "images": sum(len(x["images"]) for x in r)} for s, r in records.items()},
        "origins_used": sorted({s.origin for s in sources}),
        "sources": [{"id": s.id, "origin": s.origin, "licence": s.licence, "split": split_of(s.id, seed)} for s in sources],
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    (out / "README.md").write_text(_readme(manifest))
    notice = shared_dir() / "data" / "clive" / "LIVE-NOTICE.txt"
    if "clive" in manifest["origins_used"] and notice.is_file():
        shutil.copy(notice, out / "LIVE-NOTICE.txt")
    return manifest


def _readme(m: dict) -> str:
    rows = "\n".join(f"| {s} | {v['series']} | {v['images']} |" for s, v in m["splits"].items())
    return f"""# Known-order benchmark (generated)

**It measures ordering by construction, not human taste.** Each series is one real photo followed by
increasingly degraded copies of it (one family per series: {", ".join(LEVELS)}); the untouched photo is best and
every step is strictly worse. A model that orders these series well detects technical degradations; it says
nothing about composition or taste, and the source photos' own quality is not judged.

Rebuild: `python -m benchmarks.known_order.build --out DIR` (seed {m["seed"]}, {m["clive_limit"]} CLIVE photos,
long side <= {m["max_side"]} px). Splits are by source photo: every series from one photo is in one split.
Sources used: {", ".join(m["origins_used"])} (licences per photo in manifest.json; the CLIVE notice
LIVE-NOTICE.txt applies to every image derived from a CLIVE photo).

| split | series | images |
|---|---|---|
{rows}

Files: `<split>/series.jsonl` (docs/contracts.md series format; `images` listed in shuffled order, `ranking`
best first, every pair annotated with p = 1 or 0 in a random orientation; extra keys `source` and `levels`)
and `<split>/images/<series>/<series>-<step>.jpg` (step 0 = the photo).
"""


def main() -> None:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True, help="output folder (replaced)")
    ap.add_argument("--clive", type=int, default=60, help="how many CLIVE photos to use (default 60)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    m = build(args.out, clive_limit=args.clive, seed=args.seed)
    print(json.dumps(m["splits"]), "sources:", ", ".join(m["origins_used"]))


if __name__ == "__main__":
    main()
