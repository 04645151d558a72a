"""Pair scheduling: all pairs up to 8 images, then k deterministic references per image."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data, transform

from fgaesq.rank.pairs import all_pairs, medoid, reference_pairs, schedule_pairs


def _photo_features(n: int) -> np.ndarray:
    """Features of n graded versions of a real photo (downsampled pixels, increasing blur)."""
    from scipy.ndimage import gaussian_filter

    base = transform.resize(data.camera(), (32, 32), anti_aliasing=True)
    return np.stack([gaussian_filter(base, sigma=0.2 * i).ravel() + 0.01 * i for i in range(n)])


def test_small_series_use_all_pairs():
    assert schedule_pairs(4) == [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]
    assert len(schedule_pairs(8)) == 28
    with pytest.raises(ValueError):
        schedule_pairs(9, references="nearest")  # needs features


@pytest.mark.parametrize("n", [9, 30, 50])
def test_k_references_grow_linearly_and_cover_every_image(n):
    feats = _photo_features(n)
    pairs = schedule_pairs(n, feats, k=3, references="nearest")
    assert pairs == sorted(set(pairs)) and all(i < j for i, j in pairs)
    assert n * 3 / 2 <= len(pairs) <= n * 3  # O(n k), not O(n^2)
    degree = np.bincount(np.array(pairs).ravel(), minlength=n)
    assert degree.min() >= 3
    m = medoid(feats)
    assert {(min(i, m), max(i, m)) for i in range(n) if i != m} <= set(pairs)  # everyone meets the medoid
    assert schedule_pairs(n, feats, k=3, references="nearest") == pairs  # deterministic


def test_nearest_neighbours_are_the_references():
    feats = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9], [0.7, 0.7]])
    assert medoid(feats) == 4
    pairs = reference_pairs(feats, k=2)
    assert (0, 1) in pairs and (2, 3) in pairs and (0, 2) not in pairs
    assert reference_pairs(feats, k=4) == all_pairs(5)


@pytest.mark.parametrize("n", [9, 30, 50])
def test_balanced_references_are_even_seeded_and_need_no_features(n):
    pairs = schedule_pairs(n, None, k=3, references="balanced", seed_key="burst-7")
    assert pairs == sorted(set(pairs)) and all(i < j for i, j in pairs)
    degree = np.bincount(np.array(pairs).ravel(), minlength=n)
    assert degree.min() >= 3 and degree.max() <= 9 and len(pairs) <= 3 * n
    assert schedule_pairs(n, None, k=3, references="balanced", seed_key="burst-7") == pairs
    assert schedule_pairs(n, None, k=3, references="balanced", seed_key="burst-8") != pairs
    with pytest.raises(ValueError, match="--references"):
        schedule_pairs(n, None, references="closest")
