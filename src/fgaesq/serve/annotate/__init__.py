"""Pairwise annotation app: collect within-series judgements in the browser (`fgaesq annotate`)."""

from fgaesq.serve.annotate.app import build_store, create_app
from fgaesq.serve.annotate.catalog import Catalog, CatalogError, Series
from fgaesq.serve.annotate.db import make_engine
from fgaesq.serve.annotate.export import export_votes, iter_votes
from fgaesq.serve.annotate.store import (
    AnnotationStore,
    Assignment,
    PairUnavailable,
    Progress,
    Receipt,
    VoteRejected,
)

__all__ = [
    "AnnotationStore",
    "Assignment",
    "Catalog",
    "CatalogError",
    "PairUnavailable",
    "Progress",
    "Receipt",
    "Series",
    "VoteRejected",
    "build_store",
    "create_app",
    "export_votes",
    "iter_votes",
    "make_engine",
]
