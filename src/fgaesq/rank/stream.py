"""Scoring streams of images unit by unit (shards, Parquet row groups, chunks of files) into resumable parts.

The same row functions run in a single process (`score_stream`) and inside Ray actors
(`fgaesq.integrations.ray`), so both give identical results. A sample that cannot be decoded becomes an error
row (reported once, never scored) and the run goes on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from fgaesq.io import DEFAULT_MAX_SIZE, ImageError, load_image
from fgaesq.io.sources import Columns, OnError, Sample, Unit, iter_unit
from fgaesq.rank.outputs import PartsWriter

ROW_CHUNK = 64  # images decoded and scored together


def model_version(scorer) -> str:
    """A fingerprint of the scorer's weights: `sha256:` + 12 hex digits over every parameter (name, shape, bytes)."""
    explicit = getattr(scorer, "version", None)
    if explicit:
        return str(explicit)
    model = getattr(scorer, "model", None)
    if model is None or not hasattr(model, "state_dict"):
        return "unknown"
    import torch

    h = hashlib.sha256()
    for name, t in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(str(tuple(t.shape)).encode())
        h.update(t.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    return "sha256:" + h.hexdigest()[:12]


def fgaesq_version() -> str:
    """The installed fgaesq version."""
    from fgaesq import __version__

    return __version__


@dataclass
class ModelInfo:
    """What every output row records about the model that scored it."""

    model: str
    model_version: str
    fgaesq_version: str = field(default_factory=fgaesq_version)

    @classmethod
    def of(cls, scorer) -> ModelInfo:
        """Name and weights fingerprint of a scorer."""
        return cls(scorer.name, model_version(scorer))

    def as_dict(self) -> dict:
        """The three model columns."""
        return {"model": self.model, "model_version": self.model_version, "fgaesq_version": self.fgaesq_version}


def error_row(key: str, reason: str, source: str, series: str | None = None) -> dict:
    """An output row for a sample that was skipped."""
    return {"key": key, "series": series, "score": None, "error": reason, "source": source}


def decoder(scorer, max_size: int | None = None) -> Callable[[Sample], object]:
    """Sample -> upright RGB image as the scorer decodes a file: its own long-side limit and draft setting
    (``max_size`` overrides the limit; 0 = none)."""
    pre = getattr(scorer, "preprocess", None)
    size = max_size if max_size is not None else getattr(pre, "max_size", DEFAULT_MAX_SIZE)
    if getattr(pre, "draft", True):
        return lambda s: load_image(s.data, size, name=s.name)
    return lambda s: load_image(load_image(s.data, None, name=s.name), size)


def score_samples(
    scorer, samples: Sequence[Sample], info: ModelInfo, *, max_size: int | None = None,
    on_error: OnError | None = None,
) -> list[dict]:
    """Decode (through `load_image`) and score samples; one output row each, error rows for bad ones."""
    report = on_error or (lambda name, reason: None)
    rows: list[dict | None] = [None] * len(samples)
    images, where = [], []
    decode = decoder(scorer, max_size)
    for i, s in enumerate(samples):
        try:
            images.append(decode(s))
            where.append(i)
        except ImageError as e:
            rows[i] = error_row(s.key, e.reason, s.name, s.series)
        except Exception as e:  # noqa: BLE001 - one broken sample never stops the run
            rows[i] = error_row(s.key, f"cannot read ({type(e).__name__}: {e})", s.name, s.series)
    scores = _score_images(scorer, images)
    for i, value in zip(where, scores, strict=True):
        s = samples[i]
        if isinstance(value, str):
            rows[i] = error_row(s.key, value, s.name, s.series)
        else:
            rows[i] = {"key": s.key, "series": s.series, "score": float(value), "error": None, "source": s.name}
    for r in rows:
        if r["error"]:
            report(r["source"], r["error"])
        r.update(info.as_dict())
    return rows  # type: ignore[return-value]


def _score_images(scorer, images: list) -> list:
    """Scores of decoded images; when a batch fails, each image is retried alone (failures become messages)."""
    if not images:
        return []
    try:
        return [float(x) for x in np.asarray(scorer.score(images)).reshape(-1)]
    except Exception:  # noqa: BLE001 - retry one by one
        out: list = []
        for im in images:
            try:
                out.append(float(np.asarray(scorer.score([im])).reshape(-1)[0]))
            except Exception as e:  # noqa: BLE001
                out.append(f"failed while scoring ({type(e).__name__}: {e})")
        return out


def chunked(items: Iterable, size: int) -> Iterable[list]:
    """Lists of up to size consecutive items."""
    buf: list = []
    for x in items:
        buf.append(x)
        if len(buf) >= size:
            yield buf
            buf = []
    if buf:
        yield buf


def unit_rows(
    unit: Unit, scorer, info: ModelInfo, *, columns: Columns | None = None, max_size: int | None = None,
    chunk: int = ROW_CHUNK, on_error: OnError | None = None,
) -> list[dict]:
    """Every output row of one unit (read errors included), each key once."""
    read_errors: list[dict] = []
    report = on_error or (lambda name, reason: None)

    def on_read_error(name: str, reason: str) -> None:
        report(name, reason)
        read_errors.append(error_row(name, reason, name))

    rows: dict[str, dict] = {}
    for part in chunked(iter_unit(unit, columns, on_read_error), chunk):
        for r in score_samples(scorer, part, info, max_size=max_size, on_error=on_error):
            rows.setdefault(r["key"], r)
    for r in read_errors:
        rows.setdefault(r["key"], {**r, **info.as_dict()})
    return list(rows.values())


@dataclass
class StreamSummary:
    """What a streaming run did."""

    units: int = 0
    skipped_units: int = 0  # already in the output (resume)
    scored: int = 0
    failed: int = 0
    model: str = ""
    extra: dict = field(default_factory=dict)

    def count(self, rows: Iterable[dict]) -> None:
        """Add finished rows to the counts."""
        for r in rows:
            if r.get("error"):
                self.failed += 1
            else:
                self.scored += 1


def check_resume(writer: PartsWriter, info: ModelInfo) -> None:
    """Refuse to add to parts written by other weights (the rows would mix models)."""
    from fgaesq.rank.outputs import OutputError

    others = writer.model_versions() - {info.model_version}
    if others:
        raise OutputError(
            f"--out {writer.out}: its parts were written by another model ({', '.join(sorted(others))}); "
            "use a new --out or delete it"
        )


def score_stream(
    units: Sequence[Unit],
    scorer,
    writer: PartsWriter,
    *,
    columns: Columns | None = None,
    max_size: int | None = None,
    chunk: int = ROW_CHUNK,
    on_error: OnError | None = None,
    progress: Callable[[int], None] | None = None,
) -> StreamSummary:
    """Score every unit not already in the output, writing one part per unit; returns the counts of this run."""
    info = ModelInfo.of(scorer)
    check_resume(writer, info)
    done = writer.done()
    summary = StreamSummary(units=len(units), model=scorer.name)
    for index, unit in enumerate(units):
        if unit.uid in done:
            summary.skipped_units += 1
        else:
            rows = unit_rows(unit, scorer, info, columns=columns, max_size=max_size, chunk=chunk, on_error=on_error)
            writer.write(index, unit.uid, rows)
            summary.count(rows)
        if progress:
            progress(1)
    return summary
