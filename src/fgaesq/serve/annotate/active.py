"""Active pair selection: Bradley–Terry (choix) on a series' votes, then uncertainty over vote count.

A pair's priority is 4·p·(1 − p) / (1 + n): p is its current Bradley–Terry probability, fitted on every
vote of its series (so transitivity counts: a ≻ b and b ≻ c make a vs c fairly certain before anyone
judged it); n is its votes plus the leases other annotators hold on it. The most uncertain, least
voted pair goes first; each pair is served until it has the target number of votes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

#: Bradley–Terry L2 prior (choix `alpha`): keeps the fit finite with few, one-sided or disconnected votes.
BT_ALPHA = 0.1


def bt_params(
    n_items: int, comparisons: Sequence[tuple[int, int, str]], alpha: float = BT_ALPHA
) -> np.ndarray:
    """Bradley–Terry strengths from (i, j, choice) votes, choice a (i won) | b (j won) | tie (half each)."""
    data: list[tuple[int, int]] = []
    for i, j, choice in comparisons:
        if choice == "a":
            data += [(i, j), (i, j)]
        elif choice == "b":
            data += [(j, i), (j, i)]
        else:  # a tie counts as half a win each way
            data += [(i, j), (j, i)]
    if n_items < 2 or not data:
        return np.zeros(max(n_items, 0))
    import choix  # imported on first use: it pulls in scipy.stats (seconds)

    try:
        return np.asarray(choix.ilsr_pairwise(n_items, data, alpha=alpha), dtype=float)
    except (RuntimeError, ValueError):  # no convergence: a stronger prior always converges
        return np.asarray(choix.ilsr_pairwise(n_items, data, alpha=1.0), dtype=float)


def win_probability(params: np.ndarray, i: int, j: int) -> float:
    """P(item i ≻ item j) under Bradley–Terry strengths `params`."""
    return float(1.0 / (1.0 + np.exp(params[j] - params[i])))


def priority(p: float, n: int) -> float:
    """Uncertainty 4p(1−p) ∈ [0, 1] divided by (1 + votes): higher is served first."""
    return 4.0 * p * (1.0 - p) / (1.0 + n)


def stable_hash(*parts: str) -> int:
    """A 64-bit hash of strings that does not change between runs (tie-breaks, left/right side)."""
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")
