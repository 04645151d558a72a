"""Which pairs of a series are compared: all pairs for small series, k references per image for large ones."""

from __future__ import annotations

import hashlib
import itertools

import numpy as np

ALL_PAIRS_MAX = 8
DEFAULT_K = 3
REFERENCES = ("balanced", "nearest")
#: balanced partners agree better with all pairs (benchmarks/bench_rank_scaling.py: Spearman 0.966 vs 0.897 for a
#: random-init ViT-B/16 at n = 30, k = 3; 0.99 for both with fgaesq-tiny) and need no embeddings
DEFAULT_REFERENCES = "balanced"


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


def balanced_pairs(n: int, k: int = DEFAULT_K, *, seed_key: str = "") -> list[tuple[int, int]]:
    """k partners per image drawn at random but evenly (least-used partners first), seeded by seed_key."""
    if k >= n - 1:
        return all_pairs(n)
    seed = int(hashlib.md5(f"fgaesq-references:{seed_key}".encode()).hexdigest(), 16) % (2**32)
    rng = np.random.default_rng(seed)
    degree = np.zeros(n)
    pairs: set[tuple[int, int]] = set()
    for i in rng.permutation(n):
        i = int(i)
        chosen = 0
        for j in np.argsort(degree + 0.5 * rng.random(n), kind="stable"):
            j = int(j)
            if chosen >= k:
                break
            if j == i or (min(i, j), max(i, j)) in pairs:
                continue
            pairs.add((min(i, j), max(i, j)))
            degree[i] += 1
            degree[j] += 1
            chosen += 1
    return sorted(pairs)


def needs_features(
    n: int, *, k: int = DEFAULT_K, all_pairs_max: int = ALL_PAIRS_MAX, references: str = DEFAULT_REFERENCES
) -> bool:
    """Whether scheduling a series of n images needs its feature vectors."""
    return n > all_pairs_max and k < n - 1 and references == "nearest"


def schedule_pairs(
    n: int,
    features: np.ndarray | None = None,
    *,
    k: int = DEFAULT_K,
    all_pairs_max: int = ALL_PAIRS_MAX,
    references: str = DEFAULT_REFERENCES,
    seed_key: str = "",
) -> list[tuple[int, int]]:
    """All pairs when n <= all_pairs_max (the authors' procedure), else k references per image.

    references="balanced" (default): k partners drawn evenly at random, seeded by seed_key (the series name);
    "nearest": the series medoid and nearest neighbours by feature (needs features).
    """
    if references not in REFERENCES:
        raise ValueError(f"--references must be one of {', '.join(REFERENCES)}, not {references!r}")
    if n <= all_pairs_max or k >= n - 1:
        return all_pairs(n)
    if references == "balanced":
        return balanced_pairs(n, k, seed_key=seed_key)
    if features is None or len(features) != n:
        raise ValueError(f"a series of {n} images needs {n} feature rows to choose references")
    return reference_pairs(features, k)
