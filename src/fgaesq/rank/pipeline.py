"""Scoring files and ranking series: validation, grouping, pair scheduling, scoring, aggregation."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fgaesq.io import DEFAULT_MAX_SIZE, ImageError, capture_time, load_image
from fgaesq.rank.aggregate import aggregate_series
from fgaesq.rank.pairs import ALL_PAIRS_MAX, DEFAULT_K, DEFAULT_REFERENCES, needs_features, schedule_pairs
from fgaesq.rank.series import DEFAULT_SIMILARITY, DEFAULT_TIME_GAP, Series, discover_series
from fgaesq.scoring.images import shared_decode_cache
from fgaesq.scoring.protocol import Scorer

MODES = ("series", "pairs", "references")
#: the measured default: series mode is 4-7x cheaper, but its agreement with all pairs is not established
#: (docs/performance.md: Spearman 0.52 on random-weight tiny, no trained DiffToken checkpoint measured yet)
DEFAULT_MODE = "pairs"
#: progress(description, total) -> advance(n); None for silence
ProgressFactory = Callable[[str, int], Callable[[int], None]]


def _no_progress(description: str, total: int) -> Callable[[int], None]:
    return lambda n: None


@dataclass(frozen=True)
class FileError:
    """A file that was skipped, with the one-line reason."""

    path: str
    error: str


@dataclass(frozen=True)
class ScoredImage:
    path: str
    score: float


@dataclass
class ScoreResult:
    model: str
    images: list[ScoredImage]
    errors: list[FileError]
    forward_passes: int = 0


@dataclass(frozen=True)
class RankedImage:
    rank: int
    path: str
    score: float
    raw_score: float
    pairs: int


@dataclass
class SeriesResult:
    series: str
    strategy: str  # all-pairs | k-reference | series | single
    pairs: int
    forward_passes: int
    ranking: list[RankedImage]

    @property
    def best(self) -> str:
        """Path of the best image of the series."""
        return self.ranking[0].path


@dataclass
class RankResult:
    model: str
    series_by: str
    settings: dict
    series: list[SeriesResult]
    errors: list[FileError]
    forward_passes: int = 0
    embedded: int = 0
    extra: dict = field(default_factory=dict)


def validate(
    paths: Sequence[Path], max_size: int | None = DEFAULT_MAX_SIZE, progress: ProgressFactory | None = None
) -> tuple[list[Path], list[FileError]]:
    """Decode every file once (cheaply) and split them into usable images and per-file errors."""
    advance = (progress or _no_progress)("checking files", len(paths))
    ok, errors = [], []
    check_size = min(max_size or 512, 512)
    for p in paths:
        try:
            load_image(p, check_size)
            ok.append(p)
        except ImageError as e:
            errors.append(FileError(str(p), e.reason))
        except Exception as e:  # noqa: BLE001 - one broken file must never stop the run
            errors.append(FileError(str(p), f"cannot read ({type(e).__name__}: {e})"))
        advance(1)
    return ok, errors


def _as_error(path: Path | str, exc: Exception) -> FileError:
    """A per-file error line from any exception raised while scoring."""
    if isinstance(exc, ImageError):
        return FileError(str(path), exc.reason)
    return FileError(str(path), f"failed while scoring ({type(exc).__name__}: {exc})")


def _chunk_size(scorer: Scorer) -> int:
    """Items per scorer call: large enough to keep batches and loader workers busy, small enough for progress."""
    batch = int(getattr(scorer, "batch_size", 16) or 16)
    workers = int(getattr(scorer, "workers", 0) or 0)
    return max(64, 4 * batch * max(1, workers))


def _chunks(n: int, size: int) -> list[range]:
    return [range(s, min(n, s + size)) for s in range(0, n, size)]


def score_paths(
    paths: Sequence[Path],
    scorer: Scorer,
    *,
    max_size: int | None = DEFAULT_MAX_SIZE,
    chunk: int | None = None,
    progress: ProgressFactory | None = None,
) -> ScoreResult:
    """Single-mode scores for every readable file; unreadable ones become errors."""
    ok, errors = validate(paths, max_size, progress)
    advance = (progress or _no_progress)("scoring", len(ok))
    failed: dict[Path, FileError] = {}
    scores = _score_singles(scorer, ok, chunk or _chunk_size(scorer), failed, advance)
    images = [ScoredImage(str(p), float(s)) for p, s in zip(ok, scores, strict=True) if s == s]
    errors = errors + list(failed.values())
    return ScoreResult(scorer.name, images, errors, forward_passes=len(images))


class _EmbedCache:
    """Embeds each image once, whoever asks (grouping, then reference choice)."""

    def __init__(
        self, scorer: Scorer, progress: ProgressFactory | None, chunk: int, failed: dict[Path, FileError]
    ) -> None:
        self.scorer, self.progress, self.chunk = scorer, progress or _no_progress, chunk
        self.features: dict[Path, np.ndarray] = {}
        self.failed = failed

    def _embed_one(self, p: Path) -> np.ndarray | None:
        try:
            return np.asarray(self.scorer.embed([p]))[0]
        except Exception as e:  # noqa: BLE001 - an image the model cannot read is skipped, not the run
            self.failed.setdefault(p, _as_error(p, e))
            return None

    def __call__(self, paths: Sequence[Path]) -> np.ndarray:
        todo = [p for p in paths if p not in self.features]
        if todo:
            advance = self.progress("embedding", len(todo))
            for r in _chunks(len(todo), self.chunk):
                part = [todo[i] for i in r]
                try:
                    feats = list(np.asarray(self.scorer.embed(part)))
                except Exception:  # noqa: BLE001 - retry one by one; a failing image gets a zero feature
                    feats = [self._embed_one(p) for p in part]
                for p, f in zip(part, feats, strict=True):
                    self.features[p] = f
                advance(len(r))
        ok = [self.features[p] for p in paths if self.features[p] is not None]
        # a failed image joins any group (it is dropped from its series before scoring)
        stand_in = np.mean(ok, axis=0) if ok else np.ones(1)
        return np.stack([f if f is not None else stand_in for f in (self.features[p] for p in paths)])


def series_key(images: Sequence[Path]) -> str:
    """The seed key of a series in series mode: its file names in order (independent of how it is labelled)."""
    return "series:" + "|".join(Path(p).name for p in images)


class _SeriesEmbed(_EmbedCache):
    """Series mode with time+similarity grouping: embeds each time group by scoring it in series mode.

    The series-mode forward gives each image's features and its score against the group in one pass; when the
    similarity split keeps a time group whole (the common case), ranking reuses those scores.
    """

    def __init__(self, scorer: Scorer, progress, chunk: int, failed: dict[Path, FileError], times: dict[Path, float],
                 time_gap: float) -> None:
        super().__init__(scorer, progress, chunk, failed)
        self.times, self.time_gap = times, time_gap
        self.series_scores: dict[tuple[Path, ...], np.ndarray] = {}

    def __call__(self, paths: Sequence[Path]) -> np.ndarray:
        from fgaesq.rank.series import group_by_time

        todo = [p for p in paths if p not in self.features]
        groups = [[todo[i] for i in g] for g in group_by_time([self.times.get(p, 0.0) for p in todo], self.time_gap)]
        multi = [g for g in groups if len(g) > 1]
        if multi:
            advance = self.progress("embedding", sum(len(g) for g in multi))
            try:
                outs = self.scorer.score_series([(g, series_key(g)) for g in multi], with_features=True)
            except Exception:  # noqa: BLE001 - a bad file: embed image by image below, it is reported later
                outs = []
            for g, (scores, feats) in zip(multi, outs, strict=False):
                self.series_scores[tuple(g)] = scores
                self.features.update(zip(g, feats, strict=True))
            advance(sum(len(g) for g in multi))
        return super().__call__(paths)


def _score_pairs(
    scorer: Scorer, jobs: list, chunk: int, failed: dict[Path, FileError], advance: Callable[[int], None]
) -> np.ndarray:
    """(n, 2) pair scores in chunks; a failing chunk is retried pair by pair and failing pairs become NaN."""
    out = np.zeros((len(jobs), 2))
    for r in _chunks(len(jobs), chunk):
        try:
            out[r.start : r.stop] = scorer.score_pairs([jobs[i] for i in r])
        except Exception:  # noqa: BLE001 - retry pair by pair; a pair that fails is left out
            for i in r:
                try:
                    out[i] = scorer.score_pairs([jobs[i]])[0]
                except Exception as e:  # noqa: BLE001
                    out[i] = np.nan
                    bad = Path(e.path) if isinstance(e, ImageError) else jobs[i][0]
                    failed.setdefault(bad, _as_error(bad, e))
        advance(len(r))
    return out


def _score_singles(
    scorer: Scorer, images: list[Path], chunk: int, failed: dict[Path, FileError], advance: Callable[[int], None]
) -> np.ndarray:
    """Single-mode scores in chunks; failing images become NaN and are recorded in failed."""
    out = np.zeros(len(images))
    for r in _chunks(len(images), chunk):
        try:
            out[r.start : r.stop] = scorer.score([images[i] for i in r])
        except Exception:  # noqa: BLE001 - retry one by one
            for i in r:
                try:
                    out[i] = scorer.score([images[i]])[0]
                except Exception as e:  # noqa: BLE001
                    out[i] = np.nan
                    failed.setdefault(images[i], _as_error(images[i], e))
        advance(len(r))
    return out


def _score_series(
    scorer: Scorer, series: list[Series], failed: dict[Path, FileError], advance: Callable[[int], None]
) -> list[np.ndarray]:
    """Series-mode scores per series; a failing series is retried alone, its unreadable images left out."""
    try:
        out = scorer.score_series([(s.images, series_key(s.images)) for s in series])
        advance(sum(len(s) for s in series))
        return out
    except Exception:  # noqa: BLE001 - retry series by series
        pass
    out = []
    for s in series:
        try:
            out.append(scorer.score_series([(s.images, series_key(s.images))])[0])
        except Exception:  # noqa: BLE001 - find the bad images, then rank the rest
            good = []
            for im in s.images:
                try:
                    scorer.score([im])
                    good.append(im)
                except Exception as e:  # noqa: BLE001
                    failed.setdefault(im, _as_error(im, e))
            scores = np.full(len(s), np.nan)
            if len(good) > 1:
                sub = scorer.score_series([(good, series_key(good))])[0]
                for im, v in zip(good, sub, strict=True):
                    scores[s.images.index(im)] = v
            elif good:
                scores[s.images.index(good[0])] = scorer.score(good)[0]
            out.append(scores)
        advance(len(s))
    return out


def _rank_series(series: list[Series], used: str, scorer: Scorer, errors: list[FileError], embed, progress,
                 failed: dict[Path, FileError], settings: dict) -> RankResult:
    """Series mode: one forward per image, ranked by its score against its series."""
    known = getattr(embed, "series_scores", {})
    multi = [s for s in series if len(s) > 1 and tuple(s.images) not in known]
    lone = [s for s in series if len(s) == 1]
    advance = (progress or _no_progress)("ranking series", sum(len(s) for s in series))
    by_series = dict(zip([s.name for s in multi], _score_series(scorer, multi, failed, advance), strict=True))
    by_series.update({s.name: known[tuple(s.images)] for s in series if len(s) > 1 and tuple(s.images) in known})
    lone_scores = _score_singles(scorer, [s.images[0] for s in lone], 64, failed, advance)
    by_series.update({s.name: lone_scores[i : i + 1] for i, s in enumerate(lone)})
    results = []
    for s in series:
        scores = by_series[s.name]
        keep = [(i, float(v)) for i, v in enumerate(scores) if v == v and s.images[i] not in failed]
        if not keep:
            continue
        keep.sort(key=lambda iv: (-iv[1], iv[0]))
        ranked = [RankedImage(r + 1, str(s.images[i]), v, v, 0) for r, (i, v) in enumerate(keep)]
        results.append(SeriesResult(s.name, "series" if len(s) > 1 else "single", 0, len(keep), ranked))
    embedded = sum(f is not None for f in embed.features.values())
    total = sum(len(s) for s in multi) + len(lone) + embedded  # reused series passes count once
    return RankResult(scorer.name, used, settings, results, errors + list(failed.values()), forward_passes=total,
                      embedded=embedded)


def rank_paths(
    paths: Sequence[Path],
    scorer: Scorer,
    *,
    root: Path,
    series_by: str = "auto",
    time_gap: float = DEFAULT_TIME_GAP,
    similarity: float = DEFAULT_SIMILARITY,
    k: int = DEFAULT_K,
    references: str = DEFAULT_REFERENCES,
    all_pairs_max: int = ALL_PAIRS_MAX,
    max_size: int | None = DEFAULT_MAX_SIZE,
    chunk: int | None = None,
    progress: ProgressFactory | None = None,
    mode: str = DEFAULT_MODE,
) -> RankResult:
    """Group images into series, score them within each series and rank them best first.

    mode 'pairs' (default): DiffToken pairs, all of them up to all_pairs_max images, k references per image
    beyond (the paper); 'series': each image tokenized once against its series (n forwards); 'references':
    k references per image whatever the series length.
    """
    if mode not in MODES:
        raise ValueError(f"--mode must be one of {', '.join(MODES)}, not {mode!r}")
    if mode == "series" and not hasattr(scorer, "score_series"):
        mode = "pairs"
    # pairs and references decode every photo twice (embeddings for grouping, then the pairs): the second pass
    # reads the first one's pixels back instead (series mode reuses its one pass anyway)
    with shared_decode_cache() if mode != "series" else contextlib.nullcontext():
        if mode == "references":
            all_pairs_max = 1
        ok, errors = validate(paths, max_size, progress)
        chunk = chunk or _chunk_size(scorer)
        times = [capture_time(p) for p in ok]
        failed: dict[Path, FileError] = {}
        if mode == "series" and "with_features" in inspect.signature(scorer.score_series).parameters:
            embed = _SeriesEmbed(scorer, progress, chunk, failed,
                                 {p: t.timestamp for p, t in zip(ok, times, strict=True)}, time_gap)
        else:
            embed = _EmbedCache(scorer, progress, chunk, failed)
        series, used = discover_series(
            ok,
            root,
            series_by=series_by,
            times=[t.timestamp for t in times],
            exif_times=[t.source == "exif" for t in times],
            embed=embed,
            time_gap=time_gap,
            similarity=similarity,
        )
        if failed:  # images the model could not read while grouping leave their series
            kept = [(s, [i for i, p in enumerate(s.images) if p not in failed]) for s in series]
            series = [Series(s.name, [s.images[i] for i in idx], [s.ids[i] for i in idx]) for s, idx in kept if idx]
        if mode == "series":
            return _rank_series(series, used, scorer, errors, embed, progress, failed,
                                {"series_by": series_by, "time_gap": time_gap, "similarity": similarity, "mode": mode,
                                 "max_size": max_size})
        # which pairs: all for small series, k references per image for large ones
        plans: list[tuple[Series, list[tuple[int, int]]]] = []
        for s in series:
            need = needs_features(len(s), k=k, all_pairs_max=all_pairs_max, references=references)
            feats = embed(s.images) if need else None
            pairs = schedule_pairs(
                len(s), feats, k=k, all_pairs_max=all_pairs_max, references=references, seed_key=s.name
            ) if len(s) > 1 else []
            plans.append((s, pairs))
        jobs = [(s.images[i], s.images[j], s.pair_id(i, j)) for s, pairs in plans for i, j in pairs]
        singles = [s.images[0] for s, pairs in plans if not pairs]
        advance = (progress or _no_progress)("ranking pairs", len(jobs) + len(singles))
        pair_scores = _score_pairs(scorer, jobs, chunk, failed, advance)
        single_scores = _score_singles(scorer, singles, chunk, failed, advance)
        results, cursor, single_cursor = [], 0, 0
        for s, pairs in plans:
            if not pairs:
                score = float(single_scores[single_cursor])
                single_cursor += 1
                if score != score or s.images[0] in failed:  # failed while scoring
                    continue
                ranked = [RankedImage(1, str(s.images[0]), score, score, 0)]
                results.append(SeriesResult(s.name, "single", 0, 1, ranked))
                continue
            per_image: dict[int, list[float]] = {i: [] for i in range(len(s))}
            for i, j in pairs:
                a, b = pair_scores[cursor]
                cursor += 1
                if np.isnan(a) or np.isnan(b) or s.images[i] in failed or s.images[j] in failed:
                    continue
                per_image[i].append(float(a))
                per_image[j].append(float(b))
            per_image = {i: v for i, v in per_image.items() if v}
            if not per_image:
                continue
            agg = aggregate_series(per_image)
            ranked = [RankedImage(r + 1, str(s.images[a.key]), a.score, a.raw, a.n_pairs) for r, a in enumerate(agg)]
            strategy = "all-pairs" if len(pairs) == len(s) * (len(s) - 1) // 2 else "k-reference"
            results.append(SeriesResult(s.name, strategy, len(pairs), 2 * len(pairs), ranked))
        errors = errors + list(failed.values())
        settings = {"series_by": series_by, "time_gap": time_gap, "similarity": similarity, "mode": mode, "k": k,
                    "references": references, "max_size": max_size}
        embedded = sum(f is not None for f in embed.features.values())
        total = 2 * len(jobs) + len(singles) + embedded
        return RankResult(scorer.name, used, settings, results, errors, forward_passes=total, embedded=embedded)
