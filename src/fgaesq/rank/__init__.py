"""Ranking photo series: discovery, pair scheduling, aggregation and the pipeline (scorers: fgaesq.scoring).

Exports are loaded lazily so that `fgaesq --help` does not import torch.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "Series": "fgaesq.rank.series",
    "discover_series": "fgaesq.rank.series",
    "schedule_pairs": "fgaesq.rank.pairs",
    "aggregate_series": "fgaesq.rank.aggregate",
    "rank_paths": "fgaesq.rank.pipeline",
    "score_paths": "fgaesq.rank.pipeline",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'fgaesq.rank' has no attribute {name!r}")
