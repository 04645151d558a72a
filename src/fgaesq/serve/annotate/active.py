"""Active pair selection: Bradley–Terry on a series' votes (the fit of `fgaesq calibrate`), then uncertainty.

A pair's priority is 4·p·(1 − p) / (1 + n): p is its current Bradley–Terry probability, fitted on every
vote of its series (so transitivity counts: a ≻ b and b ≻ c make a vs c fairly certain before anyone
judged it); n is its votes plus the leases other annotators hold on it. The most uncertain, least
voted pair goes first; each pair is served until it has the target number of votes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from fgaesq.calibrate.bt import fit_strengths
from fgaesq.calibrate.defaults import ALPHA as DEFAULT_ALPHA


def bt_params(n_items: int, comparisons: Sequence[tuple[int, int, str]], alpha: float = DEFAULT_ALPHA) -> np.ndarray:
    """Bradley–Terry strengths from (i, j, choice) votes, choice a (i won) | b (j won) | tie (half each).

    The same fit and prior as `fgaesq calibrate` (`fgaesq.calibrate.bt.fit_strengths`).
    """
    if n_items < 2 or not comparisons:
        return np.zeros(max(n_items, 0))
    wins = np.zeros((n_items, n_items))
    for i, j, choice in comparisons:
        s = 1.0 if choice == "a" else 0.0 if choice == "b" else 0.5
        wins[i, j] += s
        wins[j, i] += 1.0 - s
    return fit_strengths(n_items, wins, alpha)


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
