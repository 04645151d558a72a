"""Bradley–Terry probabilities and the pair priority that drive active selection."""

from __future__ import annotations

import numpy as np

from fgaesq.serve.annotate.active import bt_params, priority, stable_hash, win_probability


def test_no_votes_means_maximal_uncertainty() -> None:
    params = bt_params(4, [])
    assert np.allclose(params, 0)
    assert win_probability(params, 0, 3) == 0.5
    assert priority(0.5, 0) == 1.0


def test_transitivity_makes_an_unjudged_pair_certain() -> None:
    # 0 ≻ 1 and 1 ≻ 2, each twice; 0 vs 2 never judged
    votes = [(0, 1, "a"), (1, 0, "b"), (1, 2, "a"), (2, 1, "b")]
    params = bt_params(3, votes)
    p02 = win_probability(params, 0, 2)
    p01 = win_probability(params, 0, 1)
    assert p02 > p01 > 0.5
    assert abs(win_probability(params, 2, 0) - (1 - p02)) < 1e-12
    # so the unjudged (0, 2) pair is less urgent than an unjudged, unrelated pair would be
    assert priority(p02, 0) < priority(0.5, 0)


def test_ties_pull_towards_one_half_and_are_symmetric() -> None:
    tie = bt_params(2, [(0, 1, "tie"), (1, 0, "tie")])
    assert abs(win_probability(tie, 0, 1) - 0.5) < 1e-9
    win = bt_params(2, [(0, 1, "a")])
    mixed = bt_params(2, [(0, 1, "a"), (0, 1, "tie")])
    assert 0.5 < win_probability(mixed, 0, 1) < win_probability(win, 0, 1)


def test_priority_prefers_uncertain_and_less_voted_pairs() -> None:
    assert priority(0.5, 1) > priority(0.5, 2)
    assert priority(0.5, 1) > priority(0.9, 1)
    assert priority(0.99, 0) < priority(0.5, 2)


def test_stable_hash_is_stable_and_spreads() -> None:
    assert stable_hash("ann", "s", "a", "b") == stable_hash("ann", "s", "a", "b")
    assert len({stable_hash("ann", str(i)) & 1 for i in range(20)}) == 2
