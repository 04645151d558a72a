"""Typer commands `fgaesq calibrate` and `fgaesq refine`."""

from __future__ import annotations

import os
import re
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from fgaesq.calibrate import defaults as rc
from fgaesq.calibrate.defaults import ALPHA as DEFAULT_ALPHA
from fgaesq.calibrate.defaults import CARELESS_BELOW as DEFAULT_CARELESS_BELOW
from fgaesq.calibrate.defaults import MIN_SCORED as DEFAULT_MIN_SCORED
from fgaesq.calibrate.defaults import THRESHOLD as DEFAULT_THRESHOLD

err = Console(stderr=True)
out = Console()


def _fail(msg: str) -> None:
    err.print(f"[bold red]error:[/] {msg}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _progress(quiet: bool = False) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
        disable=quiet,
    )


QuietOpt = typer.Option(False, "--quiet", "-q", help="No progress bar; errors and notices are still printed.")


def _guard_outputs(inputs: list[Path], outputs: list[Path | None]) -> None:
    ins = {p.resolve() for p in inputs}
    for o in outputs:
        if o is None:
            continue
        if o.resolve() in ins:
            _fail(f"{o}: output would overwrite an input file; choose another --out/--report path")
        if not o.parent.is_dir():
            _fail(f"{o}: folder {o.parent} does not exist; create it first or choose another path")
        if not os.access(o.parent, os.W_OK | os.X_OK):
            _fail(f"{o}: folder {o.parent} is not writable; choose another path")
        if o.is_symlink() or (o.exists() and not o.is_file()):
            _fail(f"{o}: exists and is not a regular file; choose another path")


def _root_for(root: str | None, out_path: Path, sample: str | None) -> str | None:
    """--root as written into the output, where readers take a relative root from the output's folder.

    A relative --root is kept when the images are found that way; when they are found from the current folder
    instead (the usual meaning of a path typed on the command line), it is rewritten relative to the output's
    folder; when neither finds `sample` (an image of the votes), it is kept and a notice says so.
    """
    if root is None or os.path.isabs(root):
        return root
    out_dir = os.path.abspath(out_path.parent)
    from_cwd = os.path.relpath(os.path.abspath(root), out_dir).replace(os.sep, "/")
    if sample is None or os.path.exists(os.path.join(out_dir, root, sample)):
        return root
    if os.path.exists(os.path.join(root, sample)):
        return from_cwd
    err.print(
        f"[yellow]notice:[/] --root {root}: {sample} is found neither under {os.path.join(out_dir, root)} (relative "
        "to the output, as readers take it) nor under the current folder; the paths may not resolve",
        highlight=False, soft_wrap=True,
    )
    return root


def calibrate_cmd(
    votes: list[Path] = typer.Argument(..., exists=True, dir_okay=False, help="Votes file(s): CSV or JSONL with series,image_a,image_b,choice,annotator and optional time."),
    out_path: Path = typer.Option(None, "--out", "-o", help="Series JSONL to write (default: <votes>.series.jsonl beside the votes)."),
    report: Path = typer.Option(None, "--report", "-r", help="Report: .md (Markdown) or .json (default: <out>.report.md)."),
    threshold: float = typer.Option(DEFAULT_THRESHOLD, help="Drop pairs with |P − 0.5| below this (indistinguishable)."),
    alpha: float = typer.Option(DEFAULT_ALPHA, help="Bradley–Terry regularisation (choix I-LSR alpha)."),
    min_votes: int = typer.Option(1, help="Drop pairs judged fewer times than this."),
    careless_below: float = typer.Option(DEFAULT_CARELESS_BELOW, help="Flag annotators whose consensus agreement is below this."),
    min_scored: int = typer.Option(DEFAULT_MIN_SCORED, help="Votes with a clear consensus an annotator needs before being flagged."),
    drop_careless: bool = typer.Option(False, "--drop-careless", help="Refit without the votes of flagged annotators."),
    drop_cycles: bool = typer.Option(False, "--drop-cycles", help="Leave series with intransitive majority cycles out of the output."),
    category: str = typer.Option(None, help="'category' written on every series (natural, aigc, cropping ...)."),
    root: str = typer.Option(None, help="'root' written on every series: base folder of the image paths (relative: "
                             "to the output's folder, or to the current folder when the images are found there)."),
    quiet: bool = QuietOpt,
) -> None:
    """Calibrate pairwise votes into ranked series with BT probabilities."""
    from fgaesq.calibrate.calibration import CalibrationSettings, calibrate_votes
    from fgaesq.calibrate.report import summary, write_report
    from fgaesq.calibrate.votes import read_votes
    from fgaesq.data.errors import DataFormatError
    from fgaesq.data.series_jsonl import write_series_jsonl

    if not 0.0 <= threshold < 0.5:
        _fail(f"--threshold {threshold}: must be in [0, 0.5)")
    if alpha <= 0:
        _fail(f"--alpha {alpha}: must be > 0 (it keeps unanimous and disconnected pairs finite)")
    out_path = out_path or votes[0].with_name(votes[0].stem + ".series.jsonl")
    report = report or out_path.with_name(out_path.stem + ".report.md")
    _guard_outputs(votes, [out_path, report])
    all_votes = []
    try:
        for v in votes:
            all_votes += read_votes(v)
    except DataFormatError as exc:
        msg = str(exc)
        hint = "fix or remove that row" if re.search(r":\d+: ", msg) else "check the path and format"
        _fail(f"{msg} ({hint}; inputs are never modified)")
    if not all_votes:
        _fail(f"{votes[0]}: no votes found")
    st = CalibrationSettings(
        threshold=threshold,
        alpha=alpha,
        min_votes=min_votes,
        careless_below=careless_below,
        min_scored=min_scored,
        drop_careless=drop_careless,
        drop_cycles=drop_cycles,
        category=category,
        root=_root_for(root, out_path, all_votes[0].image_a if all_votes else None),
    )
    with _progress(quiet) as prog:
        task = prog.add_task("calibrating series", total=len(all_votes))
        res = calibrate_votes(all_votes, st, progress=lambda n: prog.advance(task, n))
        prog.update(task, total=res.votes_used, completed=res.votes_used)
    try:
        n = write_series_jsonl(out_path, res.records())
        write_report(res, report)
    except OSError as exc:
        _fail(f"{getattr(exc, 'filename', None) or out_path}: cannot write ({exc}); no partial output was left")
    sm = summary(res)
    out.print(
        f"{n} series written to {out_path} ({sm['pairs_kept']} of {sm['pairs_judged']} pairs kept, "
        f"{sm['pairs_indistinguishable']} indistinguishable); report: {report}",
        highlight=False,
        soft_wrap=True,
    )
    if sm["series_with_cycles"]:
        out.print(f"{sm['series_with_cycles']} series with intransitive cycles (see report)", highlight=False)
    if sm["careless_annotators"]:
        out.print(
            f"[yellow]careless annotators:[/] {', '.join(sm['careless_annotators'])}"
            + (" (excluded)" if drop_careless else " (re-run with --drop-careless to exclude)"),
            highlight=False,
        )


def refine_cmd(
    root: Path = typer.Argument(..., exists=True, help="Folder with one sub-folder per series, or a series JSONL file."),
    out_path: Path = typer.Option(None, "--out", "-o", help="Report: .json or .csv (default: refine-report.json in the current folder)."),
    kept: Path = typer.Option(None, "--kept", help="Write the ids of kept series here, one per line."),
    crops: Path = typer.Option(None, "--crops", exists=True, dir_okay=False, help="Crop boxes CSV: series,image,x0,y0,x1,y1."),
    prompts: Path = typer.Option(None, "--prompts", exists=True, dir_okay=False, help="Prompts CSV series,prompt (AI series); else prompt.txt in a series folder."),
    clip_model: str = typer.Option("ViT-B-16", help="open_clip model name, or local-dir:PATH / hf-hub:ORG/REPO."),
    clip_weights: str = typer.Option(None, help="CLIP weights file for --clip-model (no download is attempted)."),
    mllm_cmd: str = typer.Option(None, "--mllm-cmd", help="Command run per series: series JSON on stdin, verdict JSON on stdout."),
    mllm_timeout: float = typer.Option(rc.DEFAULTS.mllm_timeout, help="Seconds allowed per --mllm-cmd run."),
    ssim_min: float = typer.Option(rc.DEFAULTS.ssim_min, help="Dissimilar: SSIM (downscaled grey) below this ..."),
    min_matches: int = typer.Option(rc.DEFAULTS.min_matches, help="... and fewer verified keypoint matches than this."),
    matcher: str = typer.Option(rc.DEFAULTS.matcher, help="Keypoints for the match count: sift or orb."),
    indiscernible_ssim: float = typer.Option(rc.DEFAULTS.indiscernible_ssim, help="Indiscernible: SSIM at least this ..."),
    indiscernible_mad: float = typer.Option(rc.DEFAULTS.indiscernible_mad, help="... and mean abs. difference (0-255) at most this."),
    dark_max: float = typer.Option(rc.DEFAULTS.dark_max, help="Defect: mean brightness (0-255) at most this (black frame)."),
    bright_min: float = typer.Option(rc.DEFAULTS.bright_min, help="Defect: mean brightness at least this (white frame)."),
    flat_std: float = typer.Option(rc.DEFAULTS.flat_std, help="Defect: brightness std (0-255) at most this (blank frame)."),
    broken_rows: float = typer.Option(rc.DEFAULTS.broken_rows, help="Defect: fraction of flat rows at the bottom at least this (truncated)."),
    crop_iou_max: float = typer.Option(rc.DEFAULTS.crop_iou_max, help="Crop overlap: IoU of two crops at least this."),
    crop_iou_min: float = typer.Option(rc.DEFAULTS.crop_iou_min, help="Crop overlap: IoU below this counts as unrelated crops (0 = off)."),
    clip_min: float = typer.Option(rc.DEFAULTS.clip_min, help="Text misalignment: CLIP image-prompt cosine below this."),
    quiet: bool = QuietOpt,
) -> None:
    """Flag series to drop or review: dissimilar, indiscernible, defect, crop overlap, text misalignment."""
    from fgaesq.calibrate.refine import RefineError, load_series, refine_all, write_kept, write_refine_report

    th = rc.Thresholds(
        ssim_min=ssim_min,
        min_matches=min_matches,
        matcher=matcher,
        indiscernible_ssim=indiscernible_ssim,
        indiscernible_mad=indiscernible_mad,
        dark_max=dark_max,
        bright_min=bright_min,
        flat_std=flat_std,
        broken_rows=broken_rows,
        crop_iou_max=crop_iou_max,
        crop_iou_min=crop_iou_min,
        clip_min=clip_min,
        mllm_timeout=mllm_timeout,
    )
    if matcher not in ("sift", "orb"):
        _fail(f"--matcher {matcher}: choose sift or orb")
    out_path = out_path or Path("refine-report.json")
    inputs = [p for p in (root, crops, prompts) if p is not None and p.is_file()]
    _guard_outputs(inputs, [out_path, kept])
    try:
        series = load_series(root, prompts=prompts, crops=crops)
    except RefineError as exc:
        _fail(str(exc))
    with _progress(quiet) as prog:
        task = prog.add_task("checking series", total=len(series))
        results, notices = refine_all(
            series,
            th,
            clip_model=clip_model,
            clip_weights=clip_weights,
            mllm_cmd=mllm_cmd,
            progress=lambda: prog.advance(task),
        )
    for note in notices:
        err.print(f"[yellow]notice:[/] {note}", highlight=False, soft_wrap=True)
    write_refine_report(results, out_path, notices)
    n_keep = sum(r.verdict == "keep" for r in results)
    if kept is not None:
        write_kept(results, kept)
    out.print(
        f"{n_keep} of {len(results)} series kept, "
        f"{sum(r.verdict == 'drop' for r in results)} to drop, {sum(r.verdict == 'review' for r in results)} to review; "
        f"report: {out_path}" + (f"; kept list: {kept}" if kept else ""),
        highlight=False,
        soft_wrap=True,
    )
