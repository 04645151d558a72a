"""Series discovery: one folder per series (the authors' layout too), or a flat shoot grouped by time and look."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fgaesq.io import natural_key

SERIES_BY = ("auto", "folder", "time", "similarity")
DEFAULT_TIME_GAP = 30.0  # seconds between shots that starts a new series
DEFAULT_SIMILARITY = 0.8  # cosine of model features below which images are not the same shot


@dataclass
class Series:
    """A set of near-identical photos ranked against each other; ids enter the pair ids `{name}_{i}_{j}`."""

    name: str
    images: list[Path]
    ids: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.ids:
            self.ids = list(range(1, len(self.images) + 1))
        if len(self.ids) != len(self.images) or len(set(self.ids)) != len(self.ids):
            raise ValueError(f"series {self.name}: ids must be unique, one per image")

    def __len__(self) -> int:
        return len(self.images)

    def pair_id(self, i: int, j: int) -> str:
        """The authors' pair id for images i and j (positions in this series): `{series}_{low id}_{high id}`."""
        a, b = sorted((self.ids[i], self.ids[j]))
        return f"{self.name}_{a}_{b}"


def normalise_name(name: str) -> str:
    """Numeric series names are integer-normalised as the authors do ("000009" -> "9")."""
    return str(int(name)) if name.isdigit() else name


def _authors_ids(folder_name: str, images: Sequence[Path]) -> list[int] | None:
    """Indices from the authors' `<series>-<idx>.<ext>` names, or None when the folder does not follow it."""
    pattern = re.compile(rf"^{re.escape(folder_name)}-(\d+)$")
    ids = []
    for p in images:
        m = pattern.match(p.stem)
        if not m:
            return None
        ids.append(int(m.group(1)))
    return ids if len(set(ids)) == len(ids) else None


def folder_series(images: Sequence[Path], root: Path) -> list[Series]:
    """One series per folder; images directly in root form a series named after root."""
    groups: dict[Path, list[Path]] = {}
    for p in images:
        groups.setdefault(p.parent, []).append(p)
    out = []
    for folder in sorted(groups, key=natural_key):
        files = sorted(groups[folder], key=natural_key)
        try:
            rel = folder.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            rel = folder.name
        raw_name = folder.name if rel in ("", ".") else rel
        name = normalise_name(raw_name if rel not in ("", ".") else (root.resolve().name or "series"))
        ids = _authors_ids(folder.name, files)
        if ids is not None:
            order = np.argsort(ids, kind="stable")
            files, ids = [files[i] for i in order], sorted(ids)
        out.append(Series(name, files, ids or []))
    return out


def group_by_time(times: Sequence[float], gap: float) -> list[list[int]]:
    """Split images (already in capture order) wherever consecutive shots are more than gap seconds apart."""
    groups: list[list[int]] = []
    for i, t in enumerate(times):
        if groups and t - times[groups[-1][-1]] <= gap:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def group_by_similarity(features: np.ndarray, threshold: float) -> list[list[int]]:
    """Average-linkage clusters whose mean pairwise cosine similarity is at least threshold (ordered by first member)."""
    n = len(features)
    if n < 2:
        return [list(range(n))]
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import pdist

    f = np.asarray(features, dtype=np.float64)
    dist = np.clip(pdist(f, metric="cosine"), 0.0, 2.0)
    labels = fcluster(linkage(dist, method="average"), t=1.0 - threshold, criterion="distance")
    groups: dict[int, list[int]] = {}
    for i, lab in enumerate(labels):
        groups.setdefault(int(lab), []).append(i)
    return sorted(groups.values(), key=lambda g: g[0])


def discover_series(
    images: Sequence[Path],
    root: Path,
    *,
    series_by: str = "auto",
    times: Sequence[float] | None = None,
    exif_times: Sequence[bool] | None = None,
    embed: Callable[[Sequence[Path]], np.ndarray] | None = None,
    time_gap: float = DEFAULT_TIME_GAP,
    similarity: float = DEFAULT_SIMILARITY,
) -> tuple[list[Series], str]:
    """Group images into series; returns the series and the method actually used (folder, time, similarity, time+similarity)."""
    if series_by not in SERIES_BY:
        raise ValueError(f"--series-by must be one of {', '.join(SERIES_BY)}, not {series_by!r}")
    images = list(images)
    if not images:
        return [], series_by
    if series_by == "auto":
        folders = {p.parent.resolve() for p in images}
        if len(folders) > 1 or next(iter(folders)) != root.resolve():
            series_by = "folder"
        elif exif_times is not None and all(exif_times):
            series_by = "time+similarity" if embed is not None else "time"
        else:
            series_by = "similarity"
    if series_by == "folder":
        return folder_series(images, root), series_by
    if times is None:
        times = [p.stat().st_mtime for p in images]
    order = sorted(range(len(images)), key=lambda i: (times[i], natural_key(images[i])))
    ordered = [images[i] for i in order]
    if series_by in ("time", "time+similarity"):
        groups = group_by_time([times[i] for i in order], time_gap)
    else:
        groups = [list(range(len(ordered)))]
    if series_by in ("similarity", "time+similarity"):
        if embed is None:
            raise ValueError("grouping by similarity needs a model to embed the images")
        feats = np.asarray(embed(ordered))
        groups = [[g[i] for i in sub] for g in groups for sub in group_by_similarity(feats[g], similarity)]
    groups.sort(key=lambda g: g[0])
    width = max(3, len(str(len(groups))))
    series = [Series(f"series-{k + 1:0{width}d}", [ordered[i] for i in g]) for k, g in enumerate(groups)]
    return series, series_by
