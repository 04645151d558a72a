"""Votes of many series → calibrated series records (the `fgaesq calibrate` pipeline, without I/O)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fgaesq.calibrate.annotators import (
    DEFAULT_CARELESS_BELOW,
    DEFAULT_MIN_SCORED,
    AnnotatorStats,
    annotator_agreement,
)
from fgaesq.calibrate.bt import DEFAULT_ALPHA, DEFAULT_THRESHOLD, SeriesResult, calibrate_series
from fgaesq.calibrate.votes import Vote
from fgaesq.data.records import PairLabel, SeriesRecord


@dataclass
class CalibrationSettings:
    """Options of one calibration run (defaults documented in docs/dataset-tooling.md)."""

    threshold: float = DEFAULT_THRESHOLD
    alpha: float = DEFAULT_ALPHA
    min_votes: int = 1
    careless_below: float = DEFAULT_CARELESS_BELOW
    min_scored: int = DEFAULT_MIN_SCORED
    drop_careless: bool = False
    drop_cycles: bool = False
    category: str | None = None
    root: str | None = None


@dataclass
class CalibrationResult:
    """Everything a run found: per-series fits, annotator figures, output records."""

    settings: CalibrationSettings
    series: list[SeriesResult]
    annotators: list[AnnotatorStats]
    excluded_annotators: list[str] = field(default_factory=list)
    votes_in: int = 0
    votes_used: int = 0

    def records(self) -> list[SeriesRecord]:
        """Series JSONL records of the series that kept at least one pair."""
        out = []
        for s in self.series:
            if s.dropped:
                continue
            index = {name: i for i, name in enumerate(s.images)}
            pairs = [PairLabel(index[p.a], index[p.b], round(p.p, 4)) for p in s.kept_pairs]
            root = Path(self.settings.root) if self.settings.root else Path()
            out.append(
                SeriesRecord(
                    series=s.series,
                    images=[root / name for name in s.images],
                    pairs=pairs,
                    ranking=[index[name] for name in s.ranking],
                    category=self.settings.category or "",
                    names=list(s.images),
                    root=self.settings.root,
                )
            )
        return out


def _fit_all(
    votes: Sequence[Vote], st: CalibrationSettings, progress: Callable[[int], None] | None
) -> list[SeriesResult]:
    grouped: dict[str, list[Vote]] = defaultdict(list)
    for v in votes:
        grouped[v.series].append(v)
    results = []
    for sid, sv in grouped.items():
        res = calibrate_series(sid, sv, threshold=st.threshold, alpha=st.alpha, min_votes=st.min_votes)
        if not res.kept_pairs:
            res.dropped = "no distinguishable pair"
        elif st.drop_cycles and res.cycles:
            res.dropped = "intransitive cycle"
        results.append(res)
        if progress is not None:
            progress(len(sv))
    return results


def calibrate_votes(
    votes: Sequence[Vote],
    settings: CalibrationSettings | None = None,
    progress: Callable[[int], None] | None = None,
) -> CalibrationResult:
    """Calibrate every series of `votes`; with `drop_careless`, refit without flagged annotators."""
    st = settings or CalibrationSettings()
    annotators = annotator_agreement(
        votes, margin=st.threshold, careless_below=st.careless_below, min_scored=st.min_scored
    )
    excluded: list[str] = []
    used = list(votes)
    if st.drop_careless:
        excluded = sorted(a.annotator for a in annotators if a.careless)
        used = [v for v in votes if v.annotator not in set(excluded)]
    series = _fit_all(used, st, progress)
    return CalibrationResult(st, series, annotators, excluded, votes_in=len(votes), votes_used=len(used))
