"""Ranking a folder for review, with the result cached so that a restart does not rank again."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from fgaesq.io import collect_paths


def fingerprint(files: list[Path], root: Path, model: str, settings: dict) -> str:
    """A hash of what the ranking depends on: each file's path, size and mtime, the model and the settings."""
    h = hashlib.sha1()
    h.update(json.dumps({"model": model, "settings": settings}, sort_keys=True, default=str).encode())
    for p in sorted(files):
        st = p.stat()
        h.update(f"{p.resolve().relative_to(root) if p.resolve().is_relative_to(root) else p}\x1f{st.st_size}"
                 f"\x1f{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:20]


def rank_folder(root: str | os.PathLike, scorer, *, cache_dir: Path | None = None, settings: dict | None = None,
                progress=None) -> tuple[dict, bool]:
    """The `fgaesq rank` JSON document of a folder (from the cache when nothing changed); returns (doc, cached)."""
    from fgaesq.rank.pipeline import rank_paths
    from fgaesq.rank.report import rank_dict

    root_p = Path(root).resolve()
    settings = dict(settings or {})
    files = collect_paths([root_p], recursive=True)
    if not files:
        raise ValueError(f"{root}: no image files found (JPEG, PNG, WebP, TIFF, BMP, HEIC)")
    cached_file = None
    if cache_dir is not None:
        cached_file = Path(cache_dir) / f"rank-{fingerprint(files, root_p, scorer.name, settings)}.json"
        if cached_file.is_file():
            try:
                return json.loads(cached_file.read_text(encoding="utf-8")), True
            except (OSError, json.JSONDecodeError):
                pass
    result = rank_paths(files, scorer, root=root_p, progress=progress, **settings)
    doc = rank_dict(result)
    if cached_file is not None:
        cached_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached_file.with_name(cached_file.name + ".part")
        tmp.write_text(json.dumps(doc), encoding="utf-8")
        os.replace(tmp, cached_file)
    return doc, False
