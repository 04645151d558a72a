"""Score evaluation data with a Scorer and compute the paper's metrics."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import combinations
from pathlib import Path

import numpy as np

from fgaesq.data.records import SeriesRecord
from fgaesq.evaluate.metrics import PairScore, SeriesScores, coarse_metrics, fine_metrics
from fgaesq.evaluate.series import read_scores_csv

MODES = ("pair", "single")


def score_series(scorer, s: SeriesRecord, mode: str = "pair") -> SeriesScores:
    """Image scores and pair-specific scores of one series.

    ``single``: one single-mode score per image; pairs compare those. ``pair`` (the paper's inference): every
    C(n, 2) pair is scored with each image viewed against the other; an image's score is the mean of its
    n − 1 pair scores; annotated pairs use their own pair-specific scores.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    names, paths, pairs = tuple(s.names), list(s.images), tuple(s.named_pairs())
    n = len(names)
    index = {name: i for i, name in enumerate(names)}
    if mode == "single" or n < 2:
        scores = np.asarray(scorer.score(paths), dtype=np.float64)
        pair_of = None
    else:
        combos = list(combinations(range(n), 2))
        out = np.asarray(
            scorer.score_pairs([(paths[i], paths[j], f"{s.series}:{i}:{j}") for i, j in combos]),
            dtype=np.float64,
        )
        sums, counts = np.zeros(n), np.zeros(n)
        pair_of = {}
        for (i, j), (si, sj) in zip(combos, out, strict=True):
            sums[i] += si
            sums[j] += sj
            counts[i] += 1
            counts[j] += 1
            pair_of[(i, j)] = (si, sj)
        scores = sums / counts
    pair_scores = []
    for a, b, p in pairs:
        i, j = index[a], index[b]
        if pair_of is None:
            sa, sb = scores[i], scores[j]
        elif (i, j) in pair_of:
            sa, sb = pair_of[(i, j)]
        else:
            sb, sa = pair_of[(j, i)]
        pair_scores.append(PairScore(float(sa), float(sb), float(p)))
    return SeriesScores(
        s.series, s.category or "all", names, tuple(float(x) for x in scores), pairs, tuple(pair_scores)
    )


def evaluate_fine(
    scorer, series: Sequence[SeriesRecord], mode: str = "pair", progress: Callable[[int], None] | None = None
) -> tuple[dict, list[SeriesScores]]:
    """Per-category metrics + summaries over all series, and the per-series scores."""
    scored = []
    for s in series:
        scored.append(score_series(scorer, s, mode))
        if progress:
            progress(1)
    return fine_metrics(scored), scored


def evaluate_coarse(
    scorer, csv_path: str | Path, batch: int = 16, progress: Callable[[int], None] | None = None
) -> dict:
    """SRCC / PLCC of single-mode scores against the CSV's scores (image,score or image,mos)."""
    rows = read_scores_csv(csv_path)
    pred: list[float] = []
    for k in range(0, len(rows), batch):
        chunk = rows[k : k + batch]
        pred += [float(x) for x in scorer.score([p for p, _ in chunk])]
        if progress:
            progress(len(chunk))
    return coarse_metrics(pred, [m for _, m in rows])
