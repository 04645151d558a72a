"""`fgaesq score` and `fgaesq rank`: score photos, or cull a folder of series to its best picks."""

from __future__ import annotations

import contextlib
import filecmp
import shutil
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from fgaesq.io import collect_paths
from fgaesq.io.xmp import rating_for_rank, write_sidecar
from fgaesq.rank.pairs import DEFAULT_K, DEFAULT_REFERENCES, REFERENCES
from fgaesq.rank.series import DEFAULT_SIMILARITY, DEFAULT_TIME_GAP, SERIES_BY

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE = 0, 1, 2

WeightsOpt = typer.Option(None, "--weights", "-w", help="Checkpoint file or folder, registry name (fgaesq-vit-b-16), "
                          "hf-hub:ORG/REPO, or fgaesq-lite. Default: cached fgaesq-vit-b-16, else fgaesq-lite.")
DeviceOpt = typer.Option("auto", "--device", help="auto | cpu | cuda | mps (bf16/fp16 autocast on GPUs).")
MaxSizeOpt = typer.Option(None, "--max-size", help="Downscale the long side to this many pixels (0 = off). Default: "
                          "the model's own (2048 for the ViT models; fgaesq-lite always works at 512).")
BatchOpt = typer.Option(16, "--batch-size", help="Token sequences per forward pass.")
WorkersOpt = typer.Option(-1, "--workers", help="Processes that decode and tokenize (0 = in process; -1 = auto, "
                          "from the available cores and the model's size).")
BackendOpt = typer.Option("torch", "--backend", help="torch | onnx (ONNX Runtime on the CPU; exported once into "
                          "~/.cache/fgaesq/onnx; needs the onnx extra).")
Int8Opt = typer.Option(False, "--int8", help="With --backend onnx: int8 weight quantization (faster, scores move "
                       "slightly; see docs/performance.md).")
QuietOpt = typer.Option(False, "--quiet", "-q", help="No progress bars, table or model line; errors still printed.")


def _err_console() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


@contextlib.contextmanager
def _progress(console: Console, quiet: bool):
    if quiet:
        yield None
        return
    columns = (TextColumn("{task.description:>14}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as prog:

        def factory(description: str, total: int):
            task = prog.add_task(description, total=total)
            return lambda n: prog.advance(task, n)

        yield factory


def _usage_error(console: Console, message: str) -> typer.Exit:
    console.print(Text("error: ", style="bold red") + Text(message))
    return typer.Exit(EXIT_USAGE)


def _scorer(console: Console, weights, device, batch_size, workers, max_size, backend="torch", int8=False):
    from fgaesq.scoring import ScorerError, load_scorer, weights_message

    try:
        return load_scorer(weights, device=device, batch_size=batch_size, workers=workers, max_size=max_size,
                           backend=backend, int8=int8)
    except ScorerError as e:
        raise _usage_error(console, weights_message(weights, e)) from None


def _report_errors(console: Console, errors) -> None:
    for e in errors:
        console.print(f"skipped {e.path}: {e.error}", markup=False)


def _out_kind(console: Console, out: Path | None) -> None:
    if out is not None and out.suffix.lower() not in (".json", ".csv"):
        raise _usage_error(console, f"--out {out}: use a .json or .csv file name")


def score_cmd(
    paths: list[Path] = typer.Argument(..., help="Image files and/or folders."),
    recursive: bool = typer.Option(False, "--recursive", "-r", help="Look into sub-folders too."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write scores to a .csv or .json file."),
    as_json: bool = typer.Option(False, "--json", help="Print the JSON document to stdout (for piping)."),
    weights: str | None = WeightsOpt,
    device: str = DeviceOpt,
    max_size: int | None = MaxSizeOpt,
    batch_size: int = BatchOpt,
    workers: int = WorkersOpt,
    backend: str = BackendOpt,
    int8: bool = Int8Opt,
    quiet: bool = QuietOpt,
) -> None:
    """Score each image on its own (1-10, higher is better). Exit code 1 when some files could not be read."""
    from fgaesq.rank.pipeline import score_paths
    from fgaesq.rank.report import score_csv, score_dict, score_table, to_json, write_output

    console = _err_console()
    _out_kind(console, out)
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise _usage_error(console, f"{missing[0]}: no such file or folder")
    files = collect_paths(paths, recursive=recursive)
    if not files:
        raise _usage_error(console, "no image files found (JPEG, PNG, WebP, TIFF, BMP, HEIC); try --recursive")
    scorer = _scorer(console, weights, device, batch_size, workers, max_size, backend, int8)
    if not quiet:
        console.print(f"scoring with {scorer.name}", markup=False)
    with _progress(console, quiet) as progress:
        result = score_paths(files, scorer, max_size=scorer.preprocess.max_size, progress=progress)
    _report_errors(console, result.errors)
    if out is not None:
        write_output(out, score_dict(result), score_csv(result))
    if as_json:
        sys.stdout.write(to_json(score_dict(result)))
    elif not quiet:
        Console(highlight=False).print(score_table(result))
    raise typer.Exit(EXIT_SOME_FAILED if result.errors else EXIT_OK)


def _copy_best(console: Console, result, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    used: set[str] = set()
    for s in result.series:
        src = Path(s.best)
        name = src.name if src.name not in used else f"{s.series.replace('/', '-')}__{src.name}"
        used.add(name)
        dest = folder / name
        if dest.exists() and not filecmp.cmp(src, dest, shallow=False):
            console.print(f"not copied {src}: {dest} exists with other content", markup=False)
            continue
        shutil.copy2(src, dest)


def _write_xmp(console: Console, result) -> int:
    written = 0
    for s in result.series:
        n = len(s.ranking)
        for im in s.ranking:
            fields = {"Series": s.series, "Rank": str(im.rank), "Score": f"{im.score:.4f}", "Model": result.model}
            try:
                write_sidecar(
                    im.path, rating=rating_for_rank(im.rank, n), label="Green" if im.rank == 1 else None, fields=fields
                )
                written += 1
            except (OSError, ValueError) as e:
                console.print(f"no sidecar for {im.path}: {e}", markup=False)
    return written


def rank_cmd(
    path: Path = typer.Argument(..., help="A folder: sub-folders are series; a flat folder is grouped automatically."),
    series_by: str = typer.Option("auto", "--series-by", help=f"{' | '.join(SERIES_BY)}: how images form series."),
    time_gap: float = typer.Option(DEFAULT_TIME_GAP, "--time-gap", help="Seconds between shots that start a new series."),
    similarity: float = typer.Option(
        DEFAULT_SIMILARITY, "--similarity", help="Cosine similarity of model features needed to stay in one series."
    ),
    k: int = typer.Option(DEFAULT_K, "--k", help="References per image in series of more than 8 images."),
    mode: str = typer.Option(
        "pairs", "--mode", help="pairs (DiffToken pairs as in the paper: all pairs up to 8 images, k references "
        "beyond; default) | series (each image tokenized once against its series: n forwards, 4-7x faster; "
        "agreement with pairs: docs/performance.md) | references (k references per image always)."
    ),
    references: str = typer.Option(
        DEFAULT_REFERENCES, "--references", help="balanced (k partners drawn evenly, seeded by the series name) | "
        "nearest (series medoid + nearest neighbours by feature)."
    ),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the ranking to a .json or .csv file."),
    as_json: bool = typer.Option(False, "--json", help="Print the JSON document to stdout (for piping)."),
    xmp: bool = typer.Option(False, "--xmp", help="Write <image>.xmp sidecars: xmp:Rating (best = 5) and xmp:Label."),
    copy_best: Path | None = typer.Option(None, "--copy-best", help="Copy the best image of each series here."),
    weights: str | None = WeightsOpt,
    device: str = DeviceOpt,
    max_size: int | None = MaxSizeOpt,
    batch_size: int = BatchOpt,
    workers: int = WorkersOpt,
    backend: str = BackendOpt,
    int8: bool = Int8Opt,
    quiet: bool = QuietOpt,
) -> None:
    """Rank near-identical photos within each series and name the best of each."""
    from fgaesq.rank.pipeline import rank_paths
    from fgaesq.rank.report import rank_csv, rank_dict, rank_table, to_json, write_output

    console = _err_console()
    _out_kind(console, out)
    if series_by not in SERIES_BY:
        raise _usage_error(console, f"--series-by must be one of {', '.join(SERIES_BY)}, not {series_by!r}")
    if k < 1:
        raise _usage_error(console, "--k must be at least 1")
    if references not in REFERENCES:
        raise _usage_error(console, f"--references must be one of {', '.join(REFERENCES)}, not {references!r}")
    if not path.is_dir():
        raise _usage_error(console, f"{path}: not a folder; `fgaesq rank` takes a folder of photos")
    files = collect_paths([path], recursive=True)
    if not files:
        raise _usage_error(console, f"{path}: no image files found (JPEG, PNG, WebP, TIFF, BMP, HEIC)")
    from fgaesq.rank.pipeline import MODES

    if mode not in MODES:
        raise _usage_error(console, f"--mode must be one of {', '.join(MODES)}, not {mode!r}")
    scorer = _scorer(console, weights, device, batch_size, workers, max_size, backend, int8)
    if not quiet:
        console.print(f"ranking with {scorer.name}", markup=False)
    with _progress(console, quiet) as progress:
        try:
            result = rank_paths(
                files, scorer, root=path, series_by=series_by, time_gap=time_gap, similarity=similarity, k=k,
                references=references, mode=mode,
                max_size=scorer.preprocess.max_size, progress=progress,
            )
        except ValueError as e:
            raise _usage_error(console, str(e)) from None
    _report_errors(console, result.errors)
    if out is not None:
        write_output(out, rank_dict(result), rank_csv(result))
    if xmp:
        _write_xmp(console, result)
    if copy_best is not None:
        _copy_best(console, result, copy_best)
    if as_json:
        sys.stdout.write(to_json(rank_dict(result)))
    elif not quiet:
        Console(highlight=False).print(rank_table(result))
    raise typer.Exit(EXIT_SOME_FAILED if result.errors else EXIT_OK)
