"""Build the known-order benchmark: ``python -m benchmarks.known_order.build --out DIR``.

Each series = one real photo plus graded versions of one degradation family (level 0 = the photo, each step
strictly worse), so the true order is known by construction. Splits are by source photo. Deterministic:
the same sources and seed give byte-identical JSONL and images.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from benchmarks.data_sources import clive_dir
from benchmarks.known_order.sources import all_sources
from fgaesq.evaluate.known_order import (
    FAMILIES,
    LEVELS,
    MAX_SIDE,
    SPLITS,
    make_series,
    prepare_photo,
    split_of,
)

FAMILIES_PER_SOURCE = 3


def build(out: Path, *, clive_limit: int = 60, seed: int = 0) -> dict:
    """Build every split under ``out``; returns the manifest (also written to ``out/manifest.json``)."""
    sources = all_sources(clive_limit)
    if not sources:
        raise SystemExit(
            "no source photos found: need CLIVE ($FGAESQ_CLIVE or tests/assets/clive), scikit-image, or Debian opencv-doc"
        )
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    records: dict[str, list[dict]] = {name: [] for name, _ in SPLITS}
    for idx, src in enumerate(sources):
        base = prepare_photo(src.load())
        split = split_of(src.id, seed)
        fams = [FAMILIES[(idx * FAMILIES_PER_SOURCE + f) % len(FAMILIES)] for f in range(FAMILIES_PER_SOURCE)]
        for fam in fams:
            records[split].append(make_series(src.id, base, fam, seed, out / split))
        print(f"[{idx + 1}/{len(sources)}] {src.id} -> {split}: {', '.join(fams)}", flush=True)
    for split, recs in records.items():
        (out / split).mkdir(exist_ok=True)  # a split may be empty when few sources are present
        with (out / split / "series.jsonl").open("w", encoding="utf-8") as fh:
            for rec in recs:
                fh.write(json.dumps(rec, sort_keys=True) + "\n")
    manifest = {
        "seed": seed,
        "clive_limit": clive_limit,
        "max_side": MAX_SIDE,
        "levels": LEVELS,
        "families_per_source": FAMILIES_PER_SOURCE,
        "splits": {
            s: {"series": len(r), "images": sum(len(x["images"]) for x in r)} for s, r in records.items()
        },
        "origins_used": sorted({s.origin for s in sources}),
        "sources": [
            {"id": s.id, "origin": s.origin, "licence": s.licence, "split": split_of(s.id, seed)}
            for s in sources
        ],
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    (out / "README.md").write_text(_readme(manifest))
    notice = clive_dir() / "LIVE-NOTICE.txt"
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
