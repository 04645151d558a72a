"""Series Refinement (`fgaesq refine`): load series, run the checks, decide keep / drop / review."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from itertools import combinations
from pathlib import Path

from fgaesq.calibrate import refine_checks as rc
from fgaesq.calibrate.clip_align import ClipAligner, load_clip_aligner
from fgaesq.calibrate.mllm import run_mllm
from fgaesq.io import ImageError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".heic", ".heif"}
DROP_FLAGS = ("defect", "dissimilar", "indiscernible", "crop_overlap", "text_misalignment", "too_few_images")


class RefineError(ValueError):
    """Malformed refinement input; the message names the file (and line) and the reason."""


@dataclass
class SeriesInput:
    """One series to check: image paths, optional prompt (AI series) and crop boxes."""

    series: str
    images: list[Path]
    prompt: str | None = None
    crops: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)  # image name -> box


@dataclass
class RefineResult:
    """Verdict of one series with every measured figure."""

    series: str
    images: list[str]
    verdict: str = "keep"  # keep | drop | review
    flags: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    image_checks: list[dict] = field(default_factory=list)
    pair_checks: list[dict] = field(default_factory=list)
    mllm: dict | None = None

    def flag(self, name: str, reason: str) -> None:
        """Record a flag with a one-line reason."""
        if name not in self.flags:
            self.flags.append(name)
        self.reasons.append(f"{name}: {reason}")


def read_crops(path: Path) -> dict[tuple[str, str], tuple[float, float, float, float]]:
    """Crop boxes CSV `series,image,x0,y0,x1,y1` (any unit, the same within a series)."""
    boxes: dict[tuple[str, str], tuple[float, float, float, float]] = {}
    cols = ("series", "image", "x0", "y0", "x1", "y1")
    with path.open("r", encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or any(c not in [f.strip() for f in reader.fieldnames] for c in cols):
            raise RefineError(f"{path}:1: header must have columns {','.join(cols)}")
        for row in reader:
            where = f"{path}:{reader.line_num}"
            row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
            try:
                x0, y0, x1, y1 = (float(row[c]) for c in cols[2:])
            except ValueError:
                raise RefineError(f"{where}: x0,y0,x1,y1 must be numbers") from None
            if not (x1 > x0 and y1 > y0):
                raise RefineError(f"{where}: box needs x1 > x0 and y1 > y0 (got {x0},{y0},{x1},{y1})")
            if not row["series"] or not row["image"]:
                raise RefineError(f"{where}: empty series or image")
            boxes[(row["series"], row["image"])] = (x0, y0, x1, y1)
    return boxes


def read_prompts(path: Path) -> dict[str, str]:
    """Prompts CSV `series,prompt`."""
    with path.open("r", encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or not {"series", "prompt"} <= {f.strip() for f in reader.fieldnames}:
            raise RefineError(f"{path}:1: header must have columns series,prompt")
        out = {}
        for row in reader:
            sid, prompt = (row.get("series") or "").strip(), (row.get("prompt") or "").strip()
            if not sid or not prompt:
                raise RefineError(f"{path}:{reader.line_num}: empty series or prompt")
            out[sid] = prompt
        return out


def load_series(root: Path, *, prompts: Path | None = None, crops: Path | None = None) -> list[SeriesInput]:
    """Series from a folder of series sub-folders or from a series JSONL file."""
    from fgaesq.data.errors import DataFormatError
    from fgaesq.data.series_jsonl import read_series_jsonl

    if not root.exists():
        raise RefineError(f"{root}: no such file or folder")
    series: list[SeriesInput] = []
    if root.is_file():
        try:
            recs = read_series_jsonl(root)
        except DataFormatError as exc:
            raise RefineError(str(exc)) from None
        series = [SeriesInput(r.series, list(r.images)) for r in recs]
    else:
        for sub in sorted(p for p in root.iterdir() if p.is_dir()):
            imgs = sorted(p for p in sub.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            prompt_file = sub / "prompt.txt"
            prompt = prompt_file.read_text(encoding="utf-8").strip() if prompt_file.is_file() else None
            series.append(SeriesInput(sub.name, imgs, prompt=prompt or None))
        if not series:
            raise RefineError(f"{root}: no series sub-folders (expected ROOT/<series>/<images>)")
    if prompts is not None:
        table = read_prompts(prompts)
        for s in series:
            s.prompt = table.get(s.series, s.prompt)
    if crops is not None:
        boxes = read_crops(crops)
        for s in series:
            s.crops = {img: box for (sid, img), box in boxes.items() if sid == s.series}
    return series


def check_series(s: SeriesInput, th: rc.Thresholds, aligner: ClipAligner | None = None) -> RefineResult:
    """Run the metric checks of one series (no MLLM)."""
    res = RefineResult(s.series, [p.name for p in s.images])
    if len(s.images) < 2:
        res.flag("too_few_images", f"{len(s.images)} image(s); a series needs at least 2")
    arrays = {}
    for p in s.images:
        info: dict = {"image": p.name}
        try:
            arr = rc.load_rgb(str(p))
        except ImageError as exc:
            info["defect"] = f"unreadable ({exc.reason})"
            res.flag("defect", f"{p.name}: {info['defect']}")
            res.image_checks.append(info)
            continue
        info["defect"] = rc.defect_reason(arr, th)
        if info["defect"]:
            res.flag("defect", f"{p.name}: {info['defect']}")
        else:
            arrays[p.name] = arr
        res.image_checks.append(info)
    names = list(arrays)
    feats = {n: rc.features(arrays[n], th.matcher) for n in names}
    dissimilar_to: dict[str, int] = dict.fromkeys(names, 0)
    for a, b in combinations(names, 2):
        ssim, mad = rc.ssim_mad(arrays[a], arrays[b])
        matches = rc.count_matches(feats[a], feats[b])
        pc = {"a": a, "b": b, "ssim": round(ssim, 4), "mad": round(mad, 2), "matches": matches}
        if ssim < th.ssim_min and matches < th.min_matches:
            pc["dissimilar"] = True
            dissimilar_to[a] += 1
            dissimilar_to[b] += 1
        if ssim >= th.indiscernible_ssim and mad <= th.indiscernible_mad:
            pc["indiscernible"] = True
            res.flag("indiscernible", f"{a} and {b} are near-identical (SSIM {ssim:.3f}, mean diff {mad:.2f})")
        if a in s.crops and b in s.crops:
            iou = rc.box_iou(s.crops[a], s.crops[b])
            pc["iou"] = round(iou, 4)
            if iou >= th.crop_iou_max:
                res.flag("crop_overlap", f"crops {a} and {b} overlap (IoU {iou:.2f} ≥ {th.crop_iou_max})")
            elif iou < th.crop_iou_min:
                res.flag("crop_overlap", f"crops {a} and {b} barely overlap (IoU {iou:.2f} < {th.crop_iou_min})")
        res.pair_checks.append(pc)
    for name, k in dissimilar_to.items():
        if len(names) >= 2 and k == len(names) - 1:
            res.flag("dissimilar", f"{name} does not match the other image(s) of the series")
    if aligner is not None and s.prompt and names:
        sims = aligner.similarity([arrays[n] for n in names], s.prompt)
        for info in res.image_checks:
            if info["image"] in arrays:
                sim = sims[names.index(info["image"])]
                info["clip"] = round(sim, 4)
                if sim < th.clip_min:
                    res.flag("text_misalignment", f"{info['image']}: CLIP similarity {sim:.3f} < {th.clip_min}")
    if any(f in DROP_FLAGS for f in res.flags):
        res.verdict = "drop"
    return res


def refine_all(
    series: Sequence[SeriesInput],
    th: rc.Thresholds = rc.DEFAULTS,
    *,
    clip_model: str = "ViT-B-16",
    clip_weights: str | None = None,
    mllm_cmd: str | None = None,
    progress: Callable[[], None] | None = None,
) -> tuple[list[RefineResult], list[str]]:
    """Check every series (metrics, then the MLLM hook on series the metrics kept); returns results and notices."""
    notices: list[str] = []
    aligner = None
    if any(s.prompt for s in series):
        aligner, note = load_clip_aligner(clip_model, clip_weights)
        if note:
            notices.append(note)
    results = []
    for s in series:
        res = check_series(s, th, aligner)
        if mllm_cmd and res.verdict == "keep":
            payload = {
                "series": s.series,
                "images": [str(p.resolve()) for p in s.images],
                "prompt": s.prompt,
                "checks": {"images": res.image_checks, "pairs": res.pair_checks},
            }
            verdict = run_mllm(mllm_cmd, payload, timeout=th.mllm_timeout)
            res.mllm = verdict
            if verdict["verdict"] == "drop":
                res.flag("mllm", verdict.get("reason") or "dropped by the MLLM check")
                res.verdict = "drop"
            elif verdict["verdict"] == "review":
                res.flag("mllm", verdict.get("reason") or "the MLLM check asks for review")
                res.verdict = "review"
        results.append(res)
        if progress is not None:
            progress()
    return results, notices


def write_refine_report(results: Sequence[RefineResult], path: Path, notices: Sequence[str] = ()) -> None:
    """Report as JSON (full detail) or CSV (one row per series) by the file suffix; written atomically."""
    from fgaesq.io.atomic import atomic_open, atomic_write_text

    if path.suffix.lower() == ".csv":
        with atomic_open(path, encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["series", "verdict", "images", "flags", "reasons"])
            for r in results:
                w.writerow([r.series, r.verdict, len(r.images), ";".join(r.flags), " | ".join(r.reasons)])
        return
    data = {"notices": list(notices), "series": [asdict(r) for r in results]}
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def write_kept(results: Sequence[RefineResult], path: Path) -> None:
    """Ids of the series with verdict 'keep', one per line (written atomically)."""
    from fgaesq.io.atomic import atomic_write_text

    atomic_write_text(path, "".join(f"{r.series}\n" for r in results if r.verdict == "keep"))
