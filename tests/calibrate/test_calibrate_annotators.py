"""Per-annotator agreement with the consensus; careless annotators are flagged."""

from __future__ import annotations

import numpy as np

from fgaesq.calibrate.annotators import annotator_agreement
from fgaesq.calibrate.calibration import CalibrationSettings, calibrate_votes
from fgaesq.calibrate.simulate import SimAnnotator, make_orders, simulate_votes
from fgaesq.calibrate.votes import Vote


def pool_votes(seed: int = 7):
    rng = np.random.default_rng(seed)
    orders = make_orders(60, [3, 4], rng)
    anns = [SimAnnotator(f"good{i}", "bt", spacing=1.5) for i in range(7)] + [SimAnnotator("careless", "random")]
    return orders, simulate_votes(orders, anns, 5, rng)


def test_random_annotator_flagged_and_good_ones_not() -> None:
    _, votes = pool_votes()
    stats = {a.annotator: a for a in annotator_agreement(votes)}
    assert stats["careless"].careless
    assert 0.35 < stats["careless"].agreement < 0.6
    assert stats["careless"].p_value > 0.05
    good = [s for n, s in stats.items() if n != "careless"]
    assert not any(s.careless for s in good)
    assert min(s.agreement for s in good) > 0.7
    assert max(s.p_value for s in good) < 1e-4


def test_drop_careless_removes_their_votes() -> None:
    _, votes = pool_votes()
    res = calibrate_votes(votes, CalibrationSettings(drop_careless=True))
    assert res.excluded_annotators == ["careless"]
    assert res.votes_used == sum(v.annotator != "careless" for v in votes)


def test_agreement_is_leave_one_out_and_ties_score_half() -> None:
    votes = [Vote("s", "x", "y", "a", u) for u in ("u1", "u2", "u3")] + [Vote("s", "x", "y", "tie", "t")]
    votes += [Vote("s", "y", "x", "a", "contrarian")]
    st = {a.annotator: a for a in annotator_agreement(votes, min_scored=1)}
    assert st["t"].agreement == 0.5 and st["t"].tie_rate == 1.0
    assert st["contrarian"].agreement == 0.0 and st["contrarian"].careless
    assert st["u1"].agreement == 1.0 and not st["u1"].careless
    alone = annotator_agreement([Vote("s", "x", "y", "a", "solo")])
    assert alone[0].scored == 0 and alone[0].agreement is None and not alone[0].careless
