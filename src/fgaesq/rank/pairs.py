"""Which pairs of a series are compared: all pairs for small series, k references per image for large ones."""

from __future__ import annotations

import itertools

import numpy as np

ALL_PAIRS_MAX = 8
DEFAULT_K = 3


def _unit(features: np.ndarray) -> np.ndarray:
    f = np.asarray(features, dtype=np.float64)
    return f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-12)


def cosine_matrix(features: np.ndarray) -> np.ndarray:
    """Pairwise cosine similarity of feature rows."""
    u = _unit(features)
    return u @ u.T


def medoid(features: np.ndarray) -> int:
    """Index of the image most similar on average to the others (lowest index on ties)."""
    sim = cosine_matrix(features)
    return int(np.argmax(sim.sum(axis=1)))


def all_pairs(n: int) -> list[tuple[int, int]]:
    """Every unordered pair (i, j), i < j."""
    return list(itertools.combinations(range(n), 2))


def reference_pairs(features: np.ndarray, k: int = DEFAULT_K) -> list[tuple[int, int]]:
    """k references per image: the series medoid and the nearest neighbours by cosine; sorted unique (i, j)."""
    n = len(features)
    if k >= n - 1:
        return all_pairs(n)
    sim = cosine_matrix(features)
    m = medoid(features)
    pairs: set[tuple[int, int]] = set()
    for i in range(n):
        refs = [] if i == m else [m]
        order = np.argsort(-sim[i], kind="stable")
        for j in order:
            if len(refs) >= k:
                break
            j = int(j)
            if j != i and j not in refs:
                refs.append(j)
        pairs.update((min(i, j), max(i, j)) for j in refs)
    return sorted(pairs)


def schedule_pairs(
    n: int, features: np.ndarray | None = None, *, k: int = DEFAULT_K, all_pairs_max: int = ALL_PAIRS_MAX
) -> list[tuple[int, int]]:
    """All pairs when n <= all_pairs_max (the authors' procedure), else k references per image (needs features)."""
    if n <= all_pairs_max or k >= n - 1:
        return all_pairs(n)
    if features is None or len(features) != n:
        raise ValueError(f"a series of {n} images needs {n} feature rows to choose references")
    return reference_pairs(features, k)
