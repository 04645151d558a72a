"""fgaesq-lite's model-card figures: native known-order benchmark, 12 MP bursts, lossless vs JPEG q75, CLIVE.

``python -m benchmarks.lite2_table --data benchmarks/known_order/native [--model NAME=WEIGHTS ...] [--markdown]``

For each model (default: the shipped fgaesq-lite, and the models DATA/models/*.safetensors that exist, and the
first lite in benchmarks/known_order/lite-v1 when present, as "before"):

- known-order test split of the native benchmark (held out by source photo): pooled pair-Acc / s-SRCC and
  pair-Acc per family; the held-out-source figure (all series of the mate-backgrounds photos, which the
  ``no-mate`` model never saw); measured by construction, not human taste;
- 12 MP bursts (4000×3000 JPEG q95, made from the photos of the val/test splits): clean frame vs σ 1 px focus
  blur, ⅓ EV (alternately under/over) and noise σ 4 (signal-dependent, 8-bit units at mid grey); the share of
  bursts whose clean frame gets the top score, and each competitor's pair win rate; scored by the real Scorer
  (full decode, the model's own views);
- lossless vs JPEG q75: the lossless photo beats its q75 copy (val/test wallpaper photos + the CLIVE
  validation photos), over all pairs and over the pairs whose "lossless" photo is not itself a decoded JPEG of
  quality 75 or lower kept at its pixels (most CLIVE photos are IJG q75 JPEGs: their q75 copy is the same picture
  to within a code value or two, PSNR 46-71 dB, so no model can tell them apart);
- CLIVE validation (the 163 held-out photos, human MOS): SRCC / PLCC; and a sanity table: mean score of the
  professional wallpaper photographs (val/test) against CLIVE phone snapshots (validation photos with MOS < 50).

Descriptors of benchmark and CLIVE images come from the LiteInputs cache (DATA/cache; the same numbers as the
Scorer); bursts and JPEG pairs are scored through `LiteScorer`. Writes DATA/lite2_table.json (``--keep``: adds
to the models already there, so "before" and "after" can be measured at different times).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import io
import json
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from benchmarks.data_sources import clive_dir
from fgaesq.data.fine import read_jsonl_series
from fgaesq.evaluate.metrics import coarse_metrics
from fgaesq.evaluate.native_series import apply
from fgaesq.evaluate.runner import evaluate_fine
from fgaesq.model import load_model
from fgaesq.model.lite import FGAesQLite
from fgaesq.scoring.lite import LiteScorer
from fgaesq.train.lite_inputs import LiteInputs

BURST_SIZE = (4000, 3000)
COMPETITORS = ("focus σ1", "exposure ⅓EV", "noise σ4")


class CachedScorer:
    """A Scorer over cached frozen-backbone descriptors (single mode; same numbers as LiteScorer)."""

    def __init__(self, model: FGAesQLite, cache: Path) -> None:
        self.model, self.inputs = model.eval(), LiteInputs(model.config, cache_dir=cache)

    @torch.no_grad()
    def score(self, images) -> np.ndarray:
        d = self.inputs.describe_many([(p, None) for p in images])
        return self.model.forward_desc(d).score.double().numpy()


def _heldout_photos(data: Path) -> list[Path]:
    m = json.loads((data / "manifest.json").read_text())
    from benchmarks.known_order.native_sources import BACKGROUNDS, MATE_NATURE

    out = []
    for s in m["sources"]:
        if s["split"] == "train" or s["origin"] not in ("lomiri-wallpapers", "mate-backgrounds"):
            continue
        name = s["id"].split("/", 1)[1]
        folder = MATE_NATURE if s["origin"] == "mate-backgrounds" else BACKGROUNDS
        out.append(folder / f"{name}.jpg")
    return [p for p in out if p.is_file()]


def make_bursts(data: Path) -> list[list[Path]]:
    """One 4-frame 12 MP burst per val/test wallpaper photo: [clean, focus σ1, ⅓ EV, noise σ4] (cached on disk)."""
    root = data / "bursts12mp"
    bursts = []
    for k, photo in enumerate(_heldout_photos(data)):
        folder = root / photo.stem
        names = [folder / f"{i}.jpg" for i in range(4)]
        if not all(p.is_file() for p in names):
            folder.mkdir(parents=True, exist_ok=True)
            img = Image.open(photo).convert("RGB")
            w, h = img.size
            tw, th = BURST_SIZE if w >= h else BURST_SIZE[::-1]
            s = max(tw / w, th / h)
            img = img.resize((round(w * s), round(h * s)), Image.Resampling.LANCZOS)
            x0, y0 = (img.size[0] - tw) // 2, (img.size[1] - th) // 2
            base = np.asarray(img.crop((x0, y0, x0 + tw, y0 + th)))
            rng = np.random.default_rng(k)
            frames = [
                base,
                apply(base, "focus", 1.0, rng, {}),
                apply(base, "exposure", 1 / 3, rng, {"sign": -1.0 if k % 2 == 0 else 1.0}),
                apply(base, "noise", 4.0, rng, {"read": 0.3}),
            ]
            for f, p in zip(frames, names, strict=True):
                Image.fromarray(f).save(p, quality=95)
        bursts.append(names)
    return bursts


@functools.cache
def _q75_table() -> tuple[int, ...]:
    buf = io.BytesIO()
    Image.new("L", (8, 8)).save(buf, "JPEG", quality=75)
    return tuple(Image.open(buf).quantization[0])


def already_q75(src: Path) -> bool:
    """True when ``src`` is a JPEG whose luma table is at least IJG q75's everywhere and is used at its own pixels
    (<= 2560 px): its q75 copy then hardly differs from the "lossless" photo."""
    with Image.open(src) as img:
        if img.format != "JPEG" or max(img.size) > 2560:
            return False
        table = list(img.quantization[0])
    return all(a >= b for a, b in zip(table, _q75_table(), strict=True))


def jpeg_pairs(data: Path, clive_val: list[Path]) -> list[tuple[Path, Path, bool]]:
    """(lossless PNG, JPEG q75, distinct) of each val/test wallpaper photo (<= 2560 px) and CLIVE validation
    photo; distinct is False where the source already was a q75-or-coarser JPEG (`already_q75`)."""
    root = data / "jpeg75"
    root.mkdir(exist_ok=True)
    out = []
    for src in [*_heldout_photos(data), *clive_val]:
        png, jpg = root / f"{src.stem}.png", root / f"{src.stem}-q75.jpg"
        if not (png.is_file() and jpg.is_file()):
            img = Image.open(src).convert("RGB")
            if max(img.size) > 2560:
                s = 2560 / max(img.size)
                img = img.resize((round(img.size[0] * s), round(img.size[1] * s)), Image.Resampling.LANCZOS)
            img.save(png, compress_level=1)
            img.save(jpg, quality=75)
        out.append((png, jpg, not already_q75(src)))
    return out


def clive_val(data: Path) -> tuple[list[Path], list[float]]:
    """The CLIVE validation photos (20 % by image, seed 0, as train_lite) and their MOS."""
    from benchmarks.known_order.train_lite import clive_split

    _, val = clive_split(data)
    root = clive_dir() / "images"
    return [root / r["image"] for r in val], [float(r["mos"]) for r in val]


def evaluate(name: str, model: FGAesQLite, data: Path, extras: dict) -> dict:
    """Every figure of one model."""
    t0 = time.time()
    cached = CachedScorer(model, data / "cache")
    test = read_jsonl_series(data / "test" / "series.jsonl")
    fine, _ = evaluate_fine(cached, test, "single")
    pooled, _ = evaluate_fine(cached, [dataclasses.replace(s, category="all") for s in test], "single")
    extra = set(json.loads((data / "manifest.json").read_text()).get("extra_series", []))
    mate = [s for split in ("train", "val", "test") for s in read_jsonl_series(data / split / "series.jsonl")
            if s.series.startswith("mate-") and s.series not in extra]  # fmt: skip
    held = evaluate_fine(cached, [dataclasses.replace(s, category="all") for s in mate], "single")[0] if mate else None
    cv_paths, cv_mos = extras["clive"]
    cv_scores = cached.score(cv_paths)
    scorer = LiteScorer(model, name, device="cpu")
    burst_top, wins = 0, {c: 0 for c in COMPETITORS}
    for frames in extras["bursts"]:
        s = scorer.score(frames)
        burst_top += int(np.argmax(s) == 0)
        for c, v in zip(COMPETITORS, s[1:], strict=True):
            wins[c] += int(s[0] > v)
    nb = max(1, len(extras["bursts"]))
    jp = extras["jpeg"]
    js = scorer.score([p for pair in jp for p in pair[:2]]).reshape(-1, 2)
    distinct = np.asarray([d for *_, d in jp], dtype=bool)
    pro = scorer.score(extras["pro"])
    snaps = cv_scores[np.asarray(cv_mos) < 50]
    per_family = {k: v["acc"] for k, v in fine["per_category"].items()}
    out = {
        "test_pair_acc": pooled["per_category"]["all"]["acc"],
        "test_s_srcc": pooled["per_category"]["all"]["s_srcc"],
        "test_series": len(test),
        "per_family_pair_acc": per_family,
        "per_family_s_srcc": {k: v["s_srcc"] for k, v in fine["per_category"].items()},
        "heldout_source_pair_acc": held["per_category"]["all"]["acc"] if held else None,
        "heldout_source_series": len(mate),
        "bursts": len(extras["bursts"]),
        "burst_clean_top": burst_top / nb,
        "burst_pair_wins": {c: v / nb for c, v in wins.items()},
        "lossless_beats_q75": float(np.mean(js[:, 0] > js[:, 1])) if len(js) else None,
        "jpeg_pairs": len(js),
        "lossless_beats_q75_distinct": float(np.mean(js[distinct, 0] > js[distinct, 1])) if distinct.any() else None,
        "jpeg_pairs_distinct": int(distinct.sum()),
        "clive_val": coarse_metrics(cv_scores, cv_mos),
        "pro_mean": float(np.mean(pro)), "pro_min": float(np.min(pro)),
        "snapshot_mean": float(np.mean(snaps)), "snapshot_n": int(len(snaps)),
        "clive_val_mean": float(np.mean(cv_scores)),
        "seconds": round(time.time() - t0, 1),
    }  # fmt: skip
    return out


def _markdown(results: dict) -> str:
    names = list(results)
    lines = ["| figure | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]

    def row(label, fn):
        vals = []
        for n in names:
            try:
                v = fn(results[n])
                vals.append("—" if v is None else f"{v:.3f}")
            except (KeyError, TypeError):
                vals.append("—")
        lines.append(f"| {label} | " + " | ".join(vals) + " |")

    row("native test pair-Acc (pooled)", lambda r: r["test_pair_acc"])
    row("native test s-SRCC (pooled)", lambda r: r["test_s_srcc"])
    fams = sorted({f for r in results.values() for f in r["per_family_pair_acc"]})
    for f in fams:
        row(f"  pair-Acc {f}", lambda r, f=f: r["per_family_pair_acc"][f])
    row("held-out source (mate-backgrounds) pair-Acc", lambda r: r["heldout_source_pair_acc"])
    row("12 MP bursts: clean frame top", lambda r: r["burst_clean_top"])
    for c in COMPETITORS:
        row(f"  clean beats {c}", lambda r, c=c: r["burst_pair_wins"][c])
    row("lossless beats JPEG q75", lambda r: r["lossless_beats_q75"])
    row("  same, lossless photo not already a q75 JPEG", lambda r: r["lossless_beats_q75_distinct"])
    row("CLIVE-val SRCC", lambda r: r["clive_val"]["srcc"])
    row("CLIVE-val PLCC", lambda r: r["clive_val"]["plcc"])
    row("mean score, pro wallpaper photos", lambda r: r["pro_mean"])
    row("min score, pro wallpaper photos", lambda r: r["pro_min"])
    row("mean score, CLIVE snapshots MOS < 50", lambda r: r["snapshot_mean"])
    return "\n".join(lines)


def main() -> None:
    """Evaluate the models and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("benchmarks/known_order/native"))
    ap.add_argument("--model", action="append", default=[], help="NAME=WEIGHTS (repeatable); default: see above")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the other models' results already in the JSON")
    args = ap.parse_args()
    torch.set_num_threads(1)
    models: dict[str, str] = dict(m.split("=", 1) for m in args.model)
    if not models:
        v1 = Path("benchmarks/known_order/lite-v1/fgaesq-lite.safetensors")
        if v1.is_file():
            models["before (lite v1)"] = str(v1)
        models["fgaesq-lite (shipped)"] = "fgaesq-lite"
        no_mate = args.data / "models" / "fgaesq-lite-no-mate.safetensors"
        if no_mate.is_file():
            models["no-mate (held-out source)"] = str(no_mate)
    cv = clive_val(args.data)
    extras = {"clive": cv, "bursts": make_bursts(args.data), "jpeg": jpeg_pairs(args.data, cv[0]),
              "pro": [png for png, *_ in jpeg_pairs(args.data, [])]}  # fmt: skip
    out = args.data / "lite2_table.json"
    results = json.loads(out.read_text()) if out.is_file() and args.keep else {}
    for name, spec in models.items():
        results[name] = evaluate(name, load_model(spec), args.data, extras)
        print(name, json.dumps(results[name]), flush=True)
    out.write_text(json.dumps(results, indent=1) + "\n")
    if args.markdown:
        print(_markdown(results))


if __name__ == "__main__":
    main()
