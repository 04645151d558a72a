"""`fgaesq score` and `fgaesq rank`: score photos, or cull a folder of series to its best picks."""

from __future__ import annotations

import contextlib
import filecmp
import math
import os
import shutil
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from fgaesq.io import collect_paths
from fgaesq.io.atomic import OutputError
from fgaesq.io.names import printable
from fgaesq.io.xmp import rating_for_rank, write_sidecar
from fgaesq.rank.pairs import DEFAULT_K, DEFAULT_REFERENCES, REFERENCES
from fgaesq.rank.series import DEFAULT_SIMILARITY, DEFAULT_TIME_GAP, SERIES_BY

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE = 0, 1, 2

WeightsOpt = typer.Option(None, "--weights", "-w", help="Checkpoint file or folder, registry name (fgaesq-vit-b-16), "
                          "hf-hub:ORG/REPO, or fgaesq-lite. Default: cached fgaesq-vit-b-16, else fgaesq-lite.")
DeviceOpt = typer.Option("auto", "--device", help="auto | cpu | cuda | mps (bf16/fp16 autocast on GPUs).")
MaxSizeOpt = typer.Option(None, "--max-size", min=0, max=65535, help="Downscale the long side to this many pixels "
                          "(0 = off). Default: the model's own (2048 for the ViT models; fgaesq-lite always works at 512).")
BatchOpt = typer.Option(16, "--batch-size", min=1, max=4096, help="Token sequences per forward pass.")
WorkersOpt = typer.Option(-1, "--workers", min=-1, max=256, help="Processes that decode and tokenize (0 = in process; "
                          "-1 = auto, from the available cores and the model's size).")
BackendOpt = typer.Option("torch", "--backend", help="torch | onnx (ONNX Runtime on the CPU; exported once into "
                          "~/.cache/fgaesq/onnx; needs the onnx extra).")
Int8Opt = typer.Option(False, "--int8", help="With --backend onnx: int8 weight quantization (faster, scores move "
                       "slightly; see docs/performance.md).")
PrecisionOpt = typer.Option("auto", "--precision", help="auto | fp32 | bf16 | fp16. auto: bf16/fp16 autocast on "
                            "GPUs, float32 on the CPU; bf16 on the CPU is faster where it has AMX (scores move "
                            "slightly; see docs/performance.md). DiffToken (ViT) models only.")
QuietOpt = typer.Option(False, "--quiet", "-q", help="No progress bars, table or model line; errors still printed.")
ImageColOpt = typer.Option(None, "--image-column", help="Parquet column / shard member holding the image (default: detect).")
KeyColOpt = typer.Option(None, "--key-column", help="Parquet column holding the key (default: key/id, else file:row).")
SeriesColOpt = typer.Option(None, "--series-column", help="Parquet column, shard member or .json field naming the series.")


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


def _scorer(console: Console, weights, device, batch_size, workers, max_size, backend="torch", int8=False,
            precision="auto"):
    from fgaesq.scoring import ScorerError, load_scorer, weights_message

    try:
        return load_scorer(weights, device=device, batch_size=batch_size, workers=workers, max_size=max_size,
                           backend=backend, int8=int8, precision=precision)
    except ScorerError as e:
        raise _usage_error(console, weights_message(weights, e)) from None


def _say(console: Console, line: str) -> None:
    """One line on stderr with control characters and undecodable name bytes escaped (no forged lines)."""
    console.print(printable(line), markup=False)


def _report_errors(console: Console, errors) -> None:
    for e in errors:
        _say(console, f"skipped {e.path}: {e.error}")


def _writable_target(console: Console, option: str, path: Path, *, folder: bool = False) -> None:
    """Refuse, before any work, an output whose folder cannot be created or written (nothing is lost later)."""
    target = path if folder else path.parent
    probe = target
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if folder and path.exists() and not path.is_dir():
        raise _usage_error(console, f"{option} {printable(path)}: exists and is not a folder; choose a folder")
    if not probe.is_dir():
        raise _usage_error(console, f"{option} {printable(path)}: {printable(probe)} is not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise _usage_error(console, f"{option} {printable(path)}: {printable(probe)} is not writable; choose "
                           "another place or fix its permissions")
    if not folder and os.path.islink(path):
        raise _usage_error(console, f"{option} {printable(path)}: is a symbolic link; fgaesq never writes "
                           "through links")


def _out_kind(console: Console, out: Path | None) -> None:
    if out is None:
        return
    if out.suffix.lower() not in (".json", ".csv", ".parquet", ".jsonl"):
        raise _usage_error(
            console, f"--out {printable(out)}: use a .json or .csv file name (.jsonl or .parquet for large runs)"
        )
    _writable_target(console, "--out", out)


def _finite(console: Console, option: str, value: float, lo: float, hi: float) -> None:
    if not math.isfinite(value) or not lo <= value <= hi:
        raise _usage_error(console, f"{option} must be a number from {lo:g} to {hi:g}, not {value}")


def _write_out(console: Console, out: Path, json_doc: dict, csv_text: str) -> bool:
    from fgaesq.rank.report import write_output

    try:
        write_output(out, json_doc, csv_text)
        return True
    except OutputError as e:
        _say(console, f"error: {e}")
        return False


def _stdout(text: str) -> None:
    """Write to stdout; a closed pipe (`| head`) ends quietly."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        raise typer.Exit(EXIT_OK) from None


def _stream(console: Console, run, **kw) -> None:
    """Run a streaming command (shards, Parquet, --ray) and exit with its status."""
    from fgaesq.io.sources import Columns, MissingExtra
    from fgaesq.rank.stream_cli import StreamUsageError

    cols = Columns(kw.pop("image_column"), kw.pop("key_column"), kw.pop("series_column"))
    try:
        failed = run(console, columns=cols, **kw)
    except (StreamUsageError, MissingExtra) as e:
        raise _usage_error(console, str(e)) from None
    raise typer.Exit(EXIT_SOME_FAILED if failed else EXIT_OK)


def score_cmd(
    inputs: list[str] = typer.Argument(..., metavar="PATHS...", help="Image files, folders, WebDataset shards "
                                       "(x.tar, 'shards/{00000..00099}.tar', s3://... URLs) or Parquet files."),
    recursive: bool = typer.Option(False, "--recursive", "-r", help="Look into sub-folders too."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write scores to .csv, .json, .jsonl or .parquet "
                                    "(shard/Parquet inputs: written in parts, re-running resumes)."),
    ray: str | None = typer.Option(None, "--ray", help="Score on Ray: auto (running cluster, else local) or ADDRESS."),
    ray_actors: int = typer.Option(0, "--ray-actors", help="Scoring actors on Ray (0 = one per GPU, else per CPU)."),
    image_column: str | None = ImageColOpt,
    key_column: str | None = KeyColOpt,
    series_column: str | None = SeriesColOpt,
    as_json: bool = typer.Option(False, "--json", help="Print the JSON document to stdout (for piping)."),
    weights: str | None = WeightsOpt,
    device: str = DeviceOpt,
    max_size: int | None = MaxSizeOpt,
    batch_size: int = BatchOpt,
    workers: int = WorkersOpt,
    backend: str = BackendOpt,
    int8: bool = Int8Opt,
    precision: str = PrecisionOpt,
    quiet: bool = QuietOpt,
) -> None:
    """Score each image on its own (1-10, higher is better). Exit code 1 when some files could not be read."""
    from fgaesq.rank.pipeline import score_paths
    from fgaesq.rank.report import score_csv, score_dict, score_table, to_json
    from fgaesq.rank.stream_cli import score_stream_cmd, wants_stream

    console = _err_console()
    _out_kind(console, out)
    if wants_stream(inputs, out, ray):
        factory = lambda: _scorer(console, weights, device, batch_size, workers, max_size, backend, int8, precision)  # noqa: E731
        _stream(console, score_stream_cmd, specs=inputs, out=out, ray=ray, ray_actors=ray_actors,
                image_column=image_column, key_column=key_column, series_column=series_column, weights=weights,
                device=device, max_size=max_size, batch_size=batch_size, recursive=recursive, quiet=quiet,
                progress_factory=_progress(console, quiet), scorer_factory=factory)
    if out is not None and out.suffix.lower() not in (".json", ".csv"):
        raise _usage_error(console, f"--out {printable(out)}: use a .json or .csv file name")
    paths = [Path(p) for p in inputs]
    if all(not p.exists() and not p.is_symlink() for p in paths):
        raise _usage_error(console, f"{printable(paths[0])}: no such file or folder")
    files = collect_paths(paths, recursive=recursive)  # a missing named file is reported with the others
    if not files:
        raise _usage_error(console, "no image files found (JPEG, PNG, WebP, TIFF, BMP, HEIC); try --recursive")
    scorer = _scorer(console, weights, device, batch_size, workers, max_size, backend, int8, precision)
    if not quiet:
        _say(console, f"scoring with {scorer.name}")
    with _progress(console, quiet) as progress:
        result = score_paths(files, scorer, max_size=scorer.preprocess.max_size, progress=progress)
    _report_errors(console, result.errors)
    ok = True
    if out is not None:
        ok = _write_out(console, out, score_dict(result), score_csv(result))
    if as_json:
        _stdout(to_json(score_dict(result)))
    elif not quiet and result.images:
        Console(highlight=False).print(score_table(result))
    elif not result.images:
        _say(console, f"no images could be scored ({len(result.errors)} skipped)")
    raise typer.Exit(EXIT_SOME_FAILED if result.errors or not ok else EXIT_OK)


def _copy_best(console: Console, result, folder: Path) -> int:
    """Copy each series' best image into folder; returns how many could not be copied (one line each)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        _say(console, f"error: --copy-best {folder}: cannot create it ({e.strerror or e})")
        return len(result.series)
    used: set[str] = set()
    failed = 0
    for s in result.series:
        src = Path(s.best)
        name = src.name if src.name not in used else f"{s.series.replace('/', '-')}__{src.name}"
        used.add(name)
        dest = folder / name
        try:
            if os.path.islink(dest):
                _say(console, f"not copied {src}: {dest} is a symbolic link; fgaesq never writes through links")
                failed += 1
                continue
            if dest.exists() and not filecmp.cmp(src, dest, shallow=False):
                _say(console, f"not copied {src}: {dest} exists with other content")
                failed += 1
                continue
            tmp = dest.with_name(f".{dest.name}.fgaesq-copy")
            shutil.copy2(src, tmp, follow_symlinks=True)
            os.replace(tmp, dest)
        except OSError as e:
            _say(console, f"not copied {src}: {e.strerror or e} ({dest})")
            failed += 1
    return failed


def _write_xmp(console: Console, result) -> int:
    """Write every sidecar; returns how many failed. A folder that cannot be written is reported once."""
    failed = 0
    bad_folders: set[str] = set()
    for s in result.series:
        n = len(s.ranking)
        for im in s.ranking:
            folder = os.path.dirname(im.path) or "."
            if folder in bad_folders:
                failed += 1
                continue
            fields = {"Series": s.series, "Rank": str(im.rank), "Score": f"{im.score:.4f}", "Model": result.model}
            try:
                write_sidecar(
                    im.path, rating=rating_for_rank(im.rank, n), label="Green" if im.rank == 1 else None, fields=fields
                )
            except (OSError, ValueError) as e:
                failed += 1
                if not os.access(folder, os.W_OK | os.X_OK):
                    bad_folders.add(folder)
                    _say(console, f"no sidecars in {folder}: the folder is not writable; fix its permissions "
                         "or run without --xmp")
                else:
                    _say(console, f"no sidecar for {im.path}: {e}")
    return failed


def rank_cmd(
    source: str = typer.Argument(..., metavar="PATH", help="A folder (sub-folders are series; a flat folder is grouped "
                                 "automatically), or WebDataset shards / Parquet with a series field."),
    series_by: str = typer.Option("auto", "--series-by", help=f"{' | '.join(SERIES_BY)}: how images form series."),
    time_gap: float = typer.Option(
        DEFAULT_TIME_GAP, "--time-gap", help="Seconds between shots that start a new series (0 to 86400)."
    ),
    similarity: float = typer.Option(
        DEFAULT_SIMILARITY, "--similarity",
        help="Cosine similarity of model features needed to stay in one series (0 to 1).",
    ),
    k: int = typer.Option(DEFAULT_K, "--k", min=1, max=1000,
                          help="References per image in series of more than 8 images."),
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
    report: Path | None = typer.Option(None, "--report", help="Write a self-contained HTML contact sheet (best picks, "
                                       "scores, near-ties, deciding regions)."),
    image_column: str | None = ImageColOpt,
    key_column: str | None = KeyColOpt,
    series_column: str | None = SeriesColOpt,
    weights: str | None = WeightsOpt,
    device: str = DeviceOpt,
    max_size: int | None = MaxSizeOpt,
    batch_size: int = BatchOpt,
    workers: int = WorkersOpt,
    backend: str = BackendOpt,
    int8: bool = Int8Opt,
    precision: str = PrecisionOpt,
    quiet: bool = QuietOpt,
) -> None:
    """Rank near-identical photos within each series and name the best of each."""
    from fgaesq.rank.pipeline import rank_paths
    from fgaesq.rank.report import rank_csv, rank_dict, rank_table, to_json

    console = _err_console()
    if series_by not in SERIES_BY:
        raise _usage_error(console, f"--series-by must be one of {', '.join(SERIES_BY)}, not {series_by!r}")
    _finite(console, "--time-gap", time_gap, 0, 86400)
    _finite(console, "--similarity", similarity, 0, 1)
    if references not in REFERENCES:
        raise _usage_error(console, f"--references must be one of {', '.join(REFERENCES)}, not {references!r}")
    from fgaesq.rank.stream_cli import rank_stream_cmd, wants_stream

    if wants_stream([source], out, None):
        factory = lambda: _scorer(console, weights, device, batch_size, workers, max_size, backend, int8, precision)  # noqa: E731
        _stream(console, rank_stream_cmd, specs=[source], out=out, image_column=image_column, key_column=key_column,
                series_column=series_column, k=k, references=references, max_size=max_size, quiet=quiet,
                progress_factory=_progress(console, quiet), scorer_factory=factory)
    if out is not None and out.suffix.lower() not in (".json", ".csv"):
        raise _usage_error(console, f"--out {printable(out)}: use a .json or .csv file name")
    path = Path(source)
    if not path.exists():
        raise _usage_error(console, f"{printable(path)}: no such folder")
    if not path.is_dir():
        raise _usage_error(console, f"{printable(path)}: not a folder; `fgaesq rank` takes a folder of photos")
    _out_kind(console, out)
    if copy_best is not None:
        _writable_target(console, "--copy-best", copy_best, folder=True)
    if report is not None:
        if report.suffix.lower() not in (".html", ".htm"):
            raise _usage_error(console, f"--report {printable(report)}: use a .html file name")
        _writable_target(console, "--report", report)
    files = collect_paths([path], recursive=True)
    if not files:
        raise _usage_error(console, f"{printable(path)}: no image files found (JPEG, PNG, WebP, TIFF, BMP, HEIC)")
    from fgaesq.rank.pipeline import MODES

    if mode not in MODES:
        raise _usage_error(console, f"--mode must be one of {', '.join(MODES)}, not {mode!r}")
    scorer = _scorer(console, weights, device, batch_size, workers, max_size, backend, int8, precision)
    if not quiet:
        _say(console, f"ranking with {scorer.name}")
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
    ok = True
    if out is not None:
        ok = _write_out(console, out, rank_dict(result), rank_csv(result))
    if xmp:
        ok = _write_xmp(console, result) == 0 and ok
    if copy_best is not None:
        ok = _copy_best(console, result, copy_best) == 0 and ok
    if report is not None:
        from fgaesq.rank.report_html import write_report

        try:
            with _progress(console, quiet) as progress:
                write_report(report, rank_dict(result), scorer=scorer,
                             progress=progress("report", len(result.series)) if progress else None)
        except OutputError as e:
            _say(console, f"error: {e}")
            ok = False
    if as_json:
        _stdout(to_json(rank_dict(result)))
    elif not quiet:
        Console(highlight=False).print(rank_table(result))
    raise typer.Exit(EXIT_SOME_FAILED if result.errors or not ok else EXIT_OK)
