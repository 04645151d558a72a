"""`fgaesq score` / `fgaesq rank` on large inputs: WebDataset shards, Parquet, `--out x.parquet`, `--ray`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from fgaesq.io.sources import Columns, MissingExtra, SourceError, is_stream_input, plan_units
from fgaesq.rank.outputs import FORMATS, OutputError, PartsWriter

RANK_PART_ROWS = 2000  # rows buffered before a ranking part is written


def wants_stream(specs: list[str], out: Path | None, ray: str | None) -> bool:
    """Whether a command goes through the streaming path (shards, Parquet, URLs, Parquet output or Ray)."""
    return ray is not None or is_stream_input(specs) or (out is not None and out.suffix.lower() in (".parquet", ".jsonl"))


class StreamUsageError(Exception):
    """A one-line problem with the command line or the inputs (exit code 2)."""


def _check_out(out: Path | None) -> Path:
    if out is None:
        raise StreamUsageError(f"shard and Parquet inputs need --out (one of {', '.join(FORMATS)}), e.g. --out scores.parquet")
    return out


def _reporter(console: Console) -> Callable[[str, str], None]:
    def report(name: str, reason: str) -> None:
        console.print(f"skipped {name}: {reason}", markup=False)

    return report


def score_stream_cmd(
    console: Console, specs: list[str], out: Path | None, *, ray: str | None, ray_actors: int, columns: Columns,
    weights: str | None, device: str, max_size: int | None, batch_size: int, recursive: bool, quiet: bool,
    progress_factory, scorer_factory,
) -> int:
    """Score into resumable parts; returns the number of failed samples (this run)."""
    try:
        _check_out(out)
        units = plan_units(specs, recursive=recursive)
        if not units:
            raise StreamUsageError("no images, shards or Parquet row groups found in the inputs")
        writer = PartsWriter(out)
        with progress_factory as progress:
            advance = progress("units", len(units)) if progress else None
            if ray is not None:
                from fgaesq.integrations.ray import quiet_ray, score_units_ray
                from fgaesq.rank.stream import ModelInfo

                quiet_ray()
                scorer = scorer_factory()
                if not quiet:
                    console.print(f"scoring with {scorer.name} on Ray ({ray})", markup=False)
                summary = score_units_ray(
                    units, writer, weights=weights, device=device, batch_size=batch_size, max_size=max_size,
                    columns=columns, actors=ray_actors, address=ray, on_error=_reporter(console), progress=advance,
                    model_info=ModelInfo.of(scorer),
                )
            else:
                from fgaesq.rank.stream import score_stream

                scorer = scorer_factory()
                if not quiet:
                    console.print(f"scoring with {scorer.name}", markup=False)
                summary = score_stream(units, scorer, writer, columns=columns, max_size=max_size,
                                       on_error=_reporter(console), progress=advance)
        path = writer.finish()
    except (SourceError, OutputError, StreamUsageError) as e:
        raise StreamUsageError(str(e)) from None
    if not quiet:
        resumed = f", {summary.skipped_units} already done" if summary.skipped_units else ""
        console.print(
            f"scored {summary.scored} images ({summary.failed} skipped) in {summary.units - summary.skipped_units} "
            f"units{resumed} -> {path}", markup=False,
        )
    return summary.failed


def rank_stream_cmd(
    console: Console, specs: list[str], out: Path | None, *, columns: Columns, k: int, references: str,
    max_size: int | None, quiet: bool, progress_factory, scorer_factory,
) -> int:
    """Rank series that arrive one after another in shards/Parquet into resumable parts; returns failures."""
    from fgaesq.io import ImageError
    from fgaesq.rank.series_rank import SeriesOrderError, consecutive_groups, rank_images
    from fgaesq.rank.stream import ModelInfo, check_resume, decoder, error_row

    try:
        _check_out(out)
        units = plan_units(specs, recursive=True)
        writer = PartsWriter(out)
        scorer = scorer_factory()
        info = ModelInfo.of(scorer)
        decode = decoder(scorer, max_size)
        check_resume(writer, info)
        done = _done_series(writer)
        report = _reporter(console)
        if not quiet:
            console.print(f"ranking with {scorer.name}", markup=False)
        failed = ranked = 0
        buffer: list[dict] = []
        index = len(writer.parts())

        def samples():
            from fgaesq.io.sources import iter_unit

            for u in units:
                for s in iter_unit(u, columns, report):
                    if s.series is None:
                        raise StreamUsageError(
                            f"{s.name}: no series; name the field that holds it with --series-column"
                        )
                    yield s

        def flush() -> None:
            nonlocal buffer, index
            if buffer:
                import hashlib

                uid = hashlib.sha1(str(buffer[0]["series"]).encode()).hexdigest()[:16]
                writer.write(index, uid, buffer)
                index += 1
                buffer = []

        with progress_factory as progress:
            advance = progress("series", 0) if progress else None
            for name, group in consecutive_groups(samples(), lambda s: s.series):
                if name in done:
                    continue
                keys, images, rows = [], [], []
                for s in group:
                    try:
                        images.append(decode(s))
                        keys.append(s.key)
                    except ImageError as e:
                        report(s.name, e.reason)
                        rows.append(error_row(s.key, e.reason, s.name, name))
                source = {k_: s.name for k_, s in ((s.key, s) for s in group)}
                ranked_rows = rank_images(name, keys, images, scorer, k=k, references=references)
                rows = [{**r, "error": None, "source": source[r["key"]]} for r in ranked_rows] + rows
                failed += sum(1 for r in rows if r["error"])
                ranked += len(ranked_rows)
                buffer += [{**r, **info.as_dict()} for r in rows]
                if len(buffer) >= RANK_PART_ROWS:
                    flush()
                if advance:
                    advance(1)
            flush()
        path = writer.finish()
    except SeriesOrderError as e:
        flush()
        raise StreamUsageError(str(e)) from None
    except (SourceError, OutputError) as e:
        raise StreamUsageError(str(e)) from None
    if not quiet:
        console.print(f"ranked {ranked} images ({failed} skipped) -> {path}", markup=False)
    return failed


def _done_series(writer: PartsWriter) -> set[str]:
    """Series already in finished ranking parts (each part holds whole series)."""
    from fgaesq.io.sources import require

    pq = require("pyarrow.parquet")
    done: set[str] = set()
    for p in writer.parts():
        done.update(s for s in pq.read_table(p, columns=["series"]).column(0).to_pylist() if s is not None)
    return done


__all__ = ["MissingExtra", "StreamUsageError", "rank_stream_cmd", "score_stream_cmd", "wants_stream"]
