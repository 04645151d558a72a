"""Ranking one series of images held in memory (decoded samples from shards or Parquet) with the rank pipeline's
pair scheduling and aggregation; and grouping a stream whose series arrive one after another."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from fgaesq.rank.aggregate import aggregate_series
from fgaesq.rank.pairs import ALL_PAIRS_MAX, DEFAULT_K, DEFAULT_REFERENCES, needs_features, schedule_pairs
from fgaesq.rank.series import Series


class SeriesOrderError(ValueError):
    """A series reappeared after the stream had moved on to others (single-process ranking needs them grouped)."""


def rank_images(
    name: str,
    keys: Sequence[str],
    images: Sequence,
    scorer,
    *,
    k: int = DEFAULT_K,
    references: str = DEFAULT_REFERENCES,
    all_pairs_max: int = ALL_PAIRS_MAX,
) -> list[dict]:
    """Rank decoded images of one series best first: rows with key, series, rank, best, score, raw_score, pairs."""
    n = len(images)
    if n == 0:
        return []
    if n == 1:
        s = float(np.asarray(scorer.score([images[0]])).reshape(-1)[0])
        return [{"key": keys[0], "series": name, "rank": 1, "best": True, "score": s, "raw_score": s, "pairs": 0}]
    series = Series(name, [Path(str(k_)) for k_ in keys])
    feats = np.asarray(scorer.embed(list(images))) if needs_features(
        n, k=k, all_pairs_max=all_pairs_max, references=references
    ) else None
    pairs = schedule_pairs(n, feats, k=k, all_pairs_max=all_pairs_max, references=references, seed_key=name)
    scores = np.asarray(scorer.score_pairs([(images[i], images[j], series.pair_id(i, j)) for i, j in pairs]))
    per_image: dict[int, list[float]] = {i: [] for i in range(n)}
    for (i, j), (a, b) in zip(pairs, scores.reshape(-1, 2), strict=True):
        per_image[i].append(float(a))
        per_image[j].append(float(b))
    ranked = aggregate_series({i: v for i, v in per_image.items() if v})
    return [
        {"key": keys[a.key], "series": name, "rank": r + 1, "best": r == 0, "score": a.score, "raw_score": a.raw,
         "pairs": a.n_pairs}
        for r, a in enumerate(ranked)
    ]


def consecutive_groups(items: Iterable, series_of, *, max_items: int | None = None) -> Iterator[tuple[str, list]]:
    """(series, items) for each run of consecutive items of one series; raises SeriesOrderError on a series seen
    before (memory holds one series at a time; max_items bounds it)."""
    closed: set[str] = set()
    current: str | None = None
    buf: list = []
    for x in items:
        s = series_of(x)
        if s != current:
            if current is not None:
                closed.add(current)
                yield current, buf
            if s in closed:
                raise SeriesOrderError(
                    f"series {s!r} appears again after other series; group each series' images together in the "
                    "input (sort by the series column), or rank with Ray (fgaesq.integrations.ray.rank_series)"
                )
            current, buf = s, []
        buf.append(x)
        if max_items and len(buf) > max_items:
            raise SeriesOrderError(f"series {s!r} has more than {max_items} images; split it")
    if current is not None:
        yield current, buf
