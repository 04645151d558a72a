"""Pairwise annotation app: collect within-series judgements in the browser (`fgaesq annotate`).

Exports are loaded lazily, so the command line can list `fgaesq annotate` without importing FastAPI or
SQLAlchemy (the `serve` extra: `pip install 'fgaesq[serve]'`).
"""

from __future__ import annotations

from fgaesq._lazy import lazy_exports

_EXPORTS = {
    "build_store": "fgaesq.serve.annotate.app",
    "create_app": "fgaesq.serve.annotate.app",
    "Catalog": "fgaesq.serve.annotate.catalog",
    "CatalogError": "fgaesq.serve.annotate.catalog",
    "Series": "fgaesq.serve.annotate.catalog",
    "make_engine": "fgaesq.serve.annotate.db",
    "export_votes": "fgaesq.serve.annotate.export",
    "iter_votes": "fgaesq.serve.annotate.export",
    "AnnotationStore": "fgaesq.serve.annotate.store",
    "Assignment": "fgaesq.serve.annotate.store",
    "PairUnavailable": "fgaesq.serve.annotate.store",
    "Progress": "fgaesq.serve.annotate.store",
    "Receipt": "fgaesq.serve.annotate.store",
    "VoteRejected": "fgaesq.serve.annotate.store",
}

__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
