"""Ray Data integration: score and rank images across a cluster.

- `ScoreImages`: a callable class for ``Dataset.map_batches`` (the model is loaded once per actor, on CPU or GPU):
  batches with an ``image`` column of encoded bytes (or a ``path`` column) in, ``score`` / ``error`` and the model
  columns out.
- `RankSeries` + `rank_series(ds)`: ``groupby(series).map_groups`` ranking of each series with DiffToken pairs.
- `score_units_ray`: what ``fgaesq score --ray`` runs: units of shards / Parquet / files are read on the
  workers, scored by an actor pool and written by the driver as resumable parts, each unit exactly once.

Install on every node: ``pip install 'fgaesq[scale]'`` (see docs/scale.md for a multi-node example).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict

import numpy as np

from fgaesq.io.sources import Columns, Sample, SourceError, Unit, require
from fgaesq.rank.outputs import PartsWriter
from fgaesq.rank.pairs import DEFAULT_K, DEFAULT_REFERENCES
from fgaesq.rank.stream import ModelInfo, StreamSummary, check_resume, error_row, score_samples, unit_rows


def load_scorer(weights: str | None = None, *, device: str = "auto", batch_size: int = 16,
                max_size: int | None = None):
    """The scorer for a --weights value (None: the default model), as `fgaesq score` loads it."""
    from fgaesq.scoring import load_scorer as _load

    return _load(weights, device=device, batch_size=batch_size, workers=0, max_size=max_size)


def quiet_ray() -> None:
    """No Ray Data progress bars or INFO lines on the terminal (the CLI shows its own progress)."""
    import logging

    require("ray.data").DataContext.get_current().enable_progress_bars = False
    for name in ("ray", "ray.data"):
        logging.getLogger(name).setLevel(logging.WARNING)


def init(address: str = "auto", **kwargs) -> None:
    """Connect to a Ray cluster: ``auto`` joins a running one or starts a local one; else a ``ray://`` or GCS address."""
    ray = require("ray")
    if ray.is_initialized():
        return
    kwargs.setdefault("include_dashboard", False)
    kwargs.setdefault("log_to_driver", False)
    kwargs.setdefault("logging_level", "WARNING")
    if address in ("", "auto", "local"):
        if address == "auto":
            try:
                ray.init(address="auto", **{k: v for k, v in kwargs.items() if k not in ("num_cpus", "num_gpus")})
                return
            except (ConnectionError, RuntimeError, ValueError):
                pass
        ray.init(**kwargs)
        return
    ray.init(address=address, **{k: v for k, v in kwargs.items() if k not in ("num_cpus", "num_gpus")})


def _col(batch: dict, name: str, n: int) -> list:
    value = batch.get(name)
    return [None] * n if value is None else [_clean(v) for v in value]


class ScoreImages:
    """``ds.map_batches(ScoreImages, fn_constructor_kwargs={...}, concurrency=N, num_gpus=...)``: one model per actor.

    Input columns: ``image`` (encoded bytes) or ``path``; optional ``key``, ``series``, ``name`` (for errors).
    Output: the input columns without ``image``, plus ``score`` (NaN on error), ``error``, ``model``,
    ``model_version`` and ``fgaesq_version``. Rows with an ``end`` >= 0 or an ``error`` pass through unscored.
    """

    def __init__(self, weights: str | None = None, device: str = "auto", batch_size: int = 16,
                 max_size: int | None = None, threads: int | None = None) -> None:
        if threads:
            import torch

            torch.set_num_threads(threads)
        self.scorer = load_scorer(weights, device=device, batch_size=batch_size, max_size=max_size)
        self.info = ModelInfo.of(self.scorer)
        self.max_size = max_size

    def __call__(self, batch: dict) -> dict:
        """Score one batch (a dict of column arrays)."""
        n = len(next(iter(batch.values()))) if batch else 0
        images, paths = _col(batch, "image", n), _col(batch, "path", n)
        keys = [str(k) if k is not None else str(i) for i, k in enumerate(_col(batch, "key", n))]
        series, names = _col(batch, "series", n), _col(batch, "name", n)
        ends, errors = _col(batch, "end", n), _col(batch, "error", n)
        todo = [i for i in range(n) if not errors[i] and (ends[i] is None or ends[i] < 0)]
        samples = []
        for i in todo:
            data = images[i] if images[i] is not None else paths[i]
            data = bytes(data) if isinstance(data, bytes | bytearray | memoryview | np.ndarray) else (data or b"")
            samples.append(Sample(keys[i], series[i], data, names[i] or keys[i]))
        rows = score_samples(self.scorer, samples, self.info, max_size=self.max_size)
        out_score = np.full(n, np.nan)
        out_error = [e if e else "" for e in errors]
        for i, r in zip(todo, rows, strict=True):
            out_score[i] = np.nan if r["score"] is None else r["score"]
            out_error[i] = r["error"]
        out = {c: np.asarray(v) for c, v in batch.items() if c != "image"}
        out["score"] = out_score
        out["error"] = np.asarray(out_error, dtype=object)
        for c, v in self.info.as_dict().items():
            out[c] = np.asarray([v] * n, dtype=object)
        return out


class RankSeries:
    """``ds.groupby("series").map_groups(RankSeries, ...)``: ranks each series (a group) with DiffToken pairs."""

    def __init__(self, weights: str | None = None, device: str = "auto", batch_size: int = 16,
                 max_size: int | None = None, k: int = DEFAULT_K, references: str = DEFAULT_REFERENCES,
                 series_column: str = "series", threads: int | None = None) -> None:
        if threads:
            import torch

            torch.set_num_threads(threads)
        self.scorer = load_scorer(weights, device=device, batch_size=batch_size, max_size=max_size)
        self.info = ModelInfo.of(self.scorer)
        self.max_size, self.k, self.references, self.series_column = max_size, k, references, series_column

    def __call__(self, group: dict) -> dict:
        """Rank one group: rows best first with rank, best, score, raw_score and pairs (errors ranked last, unranked)."""
        from fgaesq.io import ImageError
        from fgaesq.rank.series_rank import rank_images
        from fgaesq.rank.stream import decoder

        decode = decoder(self.scorer, self.max_size)

        n = len(next(iter(group.values())))
        images, paths = _col(group, "image", n), _col(group, "path", n)
        keys = [str(k) for k in _col(group, "key", n)]
        names = _col(group, "name", n)
        name = str(_col(group, self.series_column, n)[0])
        order = sorted(range(n), key=lambda i: keys[i])  # rows arrive in any order: rank in key order
        ok_keys, decoded, failed = [], [], []
        for i in order:
            data = images[i] if images[i] is not None else paths[i]
            data = bytes(data) if isinstance(data, bytes | bytearray | memoryview | np.ndarray) else data
            try:
                decoded.append(decode(Sample(keys[i], name, data, names[i] or keys[i])))
                ok_keys.append(keys[i])
            except ImageError as e:
                failed.append(error_row(keys[i], e.reason, names[i] or keys[i], name))
        rows = rank_images(name, ok_keys, decoded, self.scorer, k=self.k, references=self.references)
        rows = [{**r, "error": None, "source": None} for r in rows] + failed
        cols = ("key", "series", "score", "rank", "best", "raw_score", "pairs", "error")
        out = {c: np.asarray([r.get(c) for r in rows], dtype=object) for c in cols}
        for c, v in self.info.as_dict().items():
            out[c] = np.asarray([v] * len(rows), dtype=object)
        return out


def rank_series(ds, *, series_column: str = "series", concurrency: int = 1, num_gpus: float = 0,
                num_cpus: float = 1, **kwargs):
    """Rank every series of a Dataset with ``key``, ``series`` and ``image``/``path`` columns (one output row each)."""
    ray = require("ray")
    return ds.groupby(series_column).map_groups(
        RankSeries, fn_constructor_kwargs={"series_column": series_column, **kwargs},
        compute=ray.data.ActorPoolStrategy(size=concurrency), num_gpus=num_gpus, num_cpus=num_cpus,
        batch_format="numpy",
    )


# --- fgaesq score --ray ----------------------------------------------------------------------------------


def _unit_json(unit: Unit) -> str:
    return json.dumps(asdict(unit))


def _unit_of(row: dict) -> Unit:
    d = json.loads(row["unit"])
    return Unit(d["kind"], d["url"], d["row_group"], tuple(d["paths"]))


class ScoreUnits:
    """``map_batches`` over units (batch_size=1): each actor reads, decodes and scores whole units exactly as the
    single-process run does (same code, same batches, so the same scores bit for bit)."""

    def __init__(self, weights: str | None = None, device: str = "auto", batch_size: int = 16,
                 max_size: int | None = None, columns: dict | None = None,
                 threads: int | None = None) -> None:
        if threads:
            import torch

            torch.set_num_threads(threads)
        self.scorer = load_scorer(weights, device=device, batch_size=batch_size, max_size=max_size)
        self.info = ModelInfo.of(self.scorer)
        self.max_size = max_size
        self.columns = Columns(**(columns or {}))

    def __call__(self, batch: dict) -> dict:
        """Rows of the units in the batch, each followed by an end marker holding the unit's row count."""
        out: list[dict] = []
        for index, unit_text in zip(batch["index"], batch["unit"], strict=True):
            unit = _unit_of({"unit": unit_text})
            rows = unit_rows(unit, self.scorer, self.info, columns=self.columns, max_size=self.max_size)
            out += [{**r, "unit": int(index), "end": -1} for r in rows]
            out.append({"key": "", "unit": int(index), "end": len(rows), **self.info.as_dict()})
        cols = ("key", "series", "score", "error", "source", "unit", "end", "model", "model_version",
                "fgaesq_version")
        return {
            c: np.asarray([r.get(c) if r.get(c) is not None else (np.nan if c == "score" else "") for r in out],
                          dtype=np.float64 if c == "score" else np.int64 if c in ("unit", "end") else object)
            for c in cols
        }


def _clean(value):
    """Ray's columns carry missing strings as "" or NaN: back to None."""
    if isinstance(value, str | float | np.floating) and (value == "" or value != value):
        return None
    return value


def _cluster_resources() -> tuple[int, int]:
    ray = require("ray")
    res = ray.cluster_resources()
    return int(res.get("CPU", 1)), int(res.get("GPU", 0))


def score_units_ray(
    units: list[Unit],
    writer: PartsWriter,
    *,
    weights: str | None = None,
    device: str = "auto",
    batch_size: int = 16,
    max_size: int | None = None,
    columns: Columns | None = None,
    actors: int = 0,
    address: str = "auto",
    on_error: Callable[[str, str], None] | None = None,
    progress: Callable[[int], None] | None = None,
    model_info: ModelInfo | None = None,
) -> StreamSummary:
    """Score every unit not yet in the output on a Ray actor pool; the driver writes one part per finished unit."""
    ray = require("ray")
    require("ray.data")
    init(address)
    cpus, gpus = _cluster_resources()
    use_gpu = device.startswith("cuda") or (device == "auto" and gpus > 0)
    if use_gpu and gpus == 0:
        raise SourceError("--device cuda with --ray: the cluster has no GPU")
    n_actors = actors or (gpus if use_gpu else cpus)
    if model_info is not None:
        check_resume(writer, model_info)
    done = writer.done()
    summary = StreamSummary(units=len(units))
    todo = [(i, u) for i, u in enumerate(units) if u.uid not in done]
    summary.skipped_units = len(units) - len(todo)
    if progress and summary.skipped_units:
        progress(summary.skipped_units)
    if not todo:
        return summary
    n_actors = max(1, min(n_actors, len(todo)))
    cols = asdict(columns or Columns())
    ds = ray.data.from_items([{"index": i, "unit": _unit_json(u)} for i, u in todo], override_num_blocks=len(todo))
    ds = ds.map_batches(
        ScoreUnits,
        fn_constructor_kwargs={"weights": weights, "device": "cuda" if use_gpu else "cpu", "batch_size": batch_size,
                               "max_size": max_size, "columns": cols, "threads": None if use_gpu else 1},
        batch_size=1, compute=ray.data.ActorPoolStrategy(size=n_actors, max_tasks_in_flight_per_actor=1),
        num_cpus=0 if use_gpu else 1,
        num_gpus=1 if use_gpu else 0, batch_format="numpy",
    )
    pending: dict[int, dict[str, dict]] = {}
    expected: dict[int, int] = {}
    written: set[int] = set()
    report = on_error or (lambda name, reason: None)
    for batch in ds.iter_batches(batch_format="pyarrow", batch_size=None):
        for r in batch.to_pylist():
            r = {c: _clean(v) for c, v in r.items()}
            u = int(r["unit"])
            if u in written:
                continue
            if r["end"] >= 0:
                expected[u] = int(r["end"])
            else:
                rows = pending.setdefault(u, {})
                if r["key"] not in rows:
                    if r["error"]:
                        report(r["source"] or r["key"], r["error"])
                    rows[r["key"]] = r
            if u in expected and len(pending.get(u, {})) == expected[u]:
                rows = list(pending.pop(u, {}).values())
                writer.write(u, units[u].uid, rows)
                summary.count(rows)
                summary.model = summary.model or (rows[0]["model"] if rows else "")
                written.add(u)
                expected.pop(u)
                if progress:
                    progress(1)
    missing = [units[i].label for i, _ in todo if i not in written]
    if missing:
        raise RuntimeError(f"Ray run ended with {len(missing)} units unfinished (first: {missing[0]}); re-run to resume")
    return summary
