"""Simulated annotators: votes drawn from a known true order, to check a calibration pipeline end to end.

Annotator kinds: `bt` (P(correct) = σ(spacing · rank gap), the Bradley–Terry model), `flip` (correct with
probability 1 − error whatever the gap) and `random` (a careless annotator: a or b with equal chance).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from fgaesq.calibrate.votes import Vote


@dataclass(frozen=True)
class SimAnnotator:
    """One simulated annotator."""

    name: str
    kind: str = "bt"  # bt | flip | random
    spacing: float = 1.0  # bt: log-strength step between neighbours of the true order
    error: float = 0.2  # flip: chance of picking the worse image


def p_correct(ann: SimAnnotator, gap: int) -> float:
    """Chance that `ann` prefers the truly better image when the two are `gap` ranks apart."""
    if ann.kind == "random":
        return 0.5
    if ann.kind == "flip":
        return 1.0 - ann.error
    return 1.0 / (1.0 + math.exp(-ann.spacing * gap))


def simulate_votes(
    orders: Mapping[str, Sequence[str]],
    annotators: Sequence[SimAnnotator],
    votes_per_pair: int,
    rng: np.random.Generator,
) -> list[Vote]:
    """Every pair of every series judged by `votes_per_pair` distinct annotators drawn at random."""
    if votes_per_pair > len(annotators):
        raise ValueError(f"votes_per_pair={votes_per_pair} needs at least as many annotators")
    votes: list[Vote] = []
    for sid, order in orders.items():
        for i, j in combinations(range(len(order)), 2):  # order[i] is truly better than order[j]
            for k in rng.choice(len(annotators), size=votes_per_pair, replace=False):
                ann = annotators[int(k)]
                better_wins = rng.random() < p_correct(ann, j - i)
                if rng.random() < 0.5:  # random presentation side
                    a, b, choice = order[i], order[j], "a" if better_wins else "b"
                else:
                    a, b, choice = order[j], order[i], "b" if better_wins else "a"
                votes.append(Vote(sid, a, b, choice, ann.name))
    return votes


def make_orders(n_series: int, sizes: Sequence[int], rng: np.random.Generator) -> dict[str, list[str]]:
    """Series ids → true order (best first) of image names, sizes drawn from `sizes`."""
    orders = {}
    for s in range(n_series):
        n = int(rng.choice(sizes))
        names = [f"img{k}.jpg" for k in range(n)]
        rng.shuffle(names)
        orders[f"series-{s:04d}"] = names
    return orders
