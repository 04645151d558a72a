"""Ranking photo series: discovery, pair scheduling, aggregation and the pipeline (scorers: fgaesq.scoring).

Exports are loaded lazily so that `fgaesq --help` does not import torch.
"""

from __future__ import annotations

from fgaesq._lazy import lazy_exports

_EXPORTS = {
    "Series": "fgaesq.rank.series",
    "discover_series": "fgaesq.rank.series",
    "schedule_pairs": "fgaesq.rank.pairs",
    "aggregate_series": "fgaesq.rank.aggregate",
    "rank_paths": "fgaesq.rank.pipeline",
    "score_paths": "fgaesq.rank.pipeline",
}

__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
