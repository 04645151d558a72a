"""The paper's metrics against values computed by hand, including ties and 2-image series."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fgaesq.evaluate.metrics import (
    PairScore,
    SeriesScores,
    category_metrics,
    coarse_metrics,
    fine_metrics,
    net_preference,
    pair_accuracy,
    pair_f1,
    pearson,
    spearman,
    summarize,
    top1_correct,
)


def test_pair_accuracy_counts_ties_wrong_and_skips_half():
    pairs = [
        PairScore(5.0, 4.0, 0.9),  # right
        PairScore(3.0, 4.0, 0.8),  # wrong
        PairScore(4.0, 4.0, 0.7),  # tie -> wrong
        PairScore(2.0, 6.0, 0.2),  # right (second better)
        PairScore(9.0, 1.0, 0.5),  # excluded
    ]
    assert pair_accuracy(pairs) == pytest.approx(2 / 4)


def test_pair_f1_macro_by_hand():
    # y:    1 1 0 0 1 ; yhat: 1 0 0 1 (tie, y=1 -> 0)
    pairs = [
        PairScore(5, 4, 0.9),
        PairScore(3, 4, 0.8),
        PairScore(1, 2, 0.1),
        PairScore(7, 2, 0.3),
        PairScore(4, 4, 0.6),
    ]
    # class 1: TP=1 FP=1 FN=2 -> 2/(2+1+2) = 0.4 ; class 0: TP=1 FP=2 FN=1 -> 2/(2+2+1) = 0.4
    assert pair_f1(pairs) == pytest.approx(0.4)
    assert pair_accuracy(pairs) == pytest.approx(2 / 5)


def test_pair_f1_unbalanced_by_hand():
    # y: 1 1 1 0 ; yhat: 1 1 0 0 -> class1 TP2 FP0 FN1 = 4/5 ; class0 TP1 FP1 FN0 = 2/3
    pairs = [PairScore(2, 1, 0.9), PairScore(2, 1, 0.7), PairScore(1, 2, 0.6), PairScore(1, 2, 0.4)]
    assert pair_f1(pairs) == pytest.approx(0.5 * (4 / 5 + 2 / 3))


def test_pair_f1_swaps_with_seed_zero_when_all_preferred_first():
    pairs = [PairScore(2, 1, 1.0), PairScore(1, 2, 1.0), PairScore(3, 1, 0.9), PairScore(1, 1, 0.8)]
    swap = np.random.default_rng(0).random(4) < 0.5
    y, yhat = [], []
    for q, sw in zip(pairs, swap, strict=True):
        sa, sb, p = (q.s_b, q.s_a, 1 - q.p) if sw else (q.s_a, q.s_b, q.p)
        yy = int(p > 0.5)
        y.append(yy)
        yhat.append(1 if sa > sb else 0 if sa < sb else 1 - yy)
    y, yhat = np.array(y), np.array(yhat)
    f = []
    for c in (0, 1):
        tp = np.sum((y == c) & (yhat == c))
        fp = np.sum((y != c) & (yhat == c))
        fn = np.sum((y == c) & (yhat != c))
        f.append(2 * tp / (2 * tp + fp + fn) if (2 * tp + fp + fn) else 0.0)
    assert pair_f1(pairs) == pytest.approx(np.mean(f))
    assert len(set(y)) == 2  # the swap made both classes occur


def test_net_preference_and_top1():
    images = ["a", "b", "c"]
    pairs = [("a", "b", 0.8), ("c", "a", 0.6), ("b", "c", 0.5)]
    g = net_preference(images, pairs)
    # a: +0.3 -0.1 = 0.2 ; b: -0.3 ; c: +0.1
    assert g == pytest.approx([0.2, -0.3, 0.1])
    assert top1_correct([3.0, 1.0, 2.0], g)
    assert not top1_correct([1.0, 1.0, 3.5], g)
    assert not top1_correct([3.0, 1.0, 3.0], g)  # tie for the highest score -> wrong
    # a tie among ground-truth best: either one counts
    assert top1_correct([1.0, 2.0], net_preference(["x", "y"], [("x", "y", 0.5)]))


def test_spearman_average_ranks_and_constant():
    # x ranks with ties: [1, 2.5, 2.5, 4] ; y ranks [1, 2, 3, 4] -> pearson by hand
    rx = np.array([1, 2.5, 2.5, 4.0])
    ry = np.array([1, 2, 3, 4.0])
    dx, dy = rx - rx.mean(), ry - ry.mean()
    expected = (dx * dy).sum() / math.sqrt((dx**2).sum() * (dy**2).sum())
    assert spearman([0.1, 0.5, 0.5, 0.9], [10, 20, 30, 40]) == pytest.approx(expected)
    assert expected == pytest.approx(4.5 / math.sqrt(4.5 * 5))
    assert spearman([1, 1, 1], [1, 2, 3]) == 0.0
    assert spearman([3, 2, 1], [1, 2, 3]) == pytest.approx(-1.0)


def _series(name, cat, images, scores, pairs):
    idx = {im: k for k, im in enumerate(images)}
    ps = tuple(PairScore(scores[idx[a]], scores[idx[b]], p) for a, b, p in pairs)
    return SeriesScores(name, cat, tuple(images), tuple(scores), tuple(pairs), ps)


def test_category_metrics_two_image_series_count_in_s_acc_only():
    s3 = _series(
        "s3", "nat", ["a", "b", "c"], [3.0, 2.0, 1.0], [("a", "b", 1.0), ("b", "c", 1.0), ("a", "c", 1.0)]
    )
    s2 = _series("s2", "nat", ["x", "y"], [1.0, 2.0], [("x", "y", 0.9)])  # wrong order
    m = category_metrics([s3, s2])
    assert m["acc"] == pytest.approx(3 / 4)
    assert m["s_acc"] == pytest.approx(1 / 2)
    assert m["s_srcc"] == pytest.approx(1.0)  # only s3 (n >= 3)
    assert m["n_series"] == 2 and m["n_series_3plus"] == 1 and m["n_pairs"] == 4


def test_category_metrics_s_srcc_mean_with_ties_and_constant():
    a = _series(
        "a", "c", ["1", "2", "3"], [5.0, 5.0, 1.0], [("1", "2", 1.0), ("2", "3", 1.0), ("1", "3", 1.0)]
    )
    b = _series(
        "b", "c", ["1", "2", "3"], [2.0, 2.0, 2.0], [("1", "2", 1.0), ("2", "3", 1.0), ("1", "3", 1.0)]
    )
    m = category_metrics([a, b])
    # a: g = [1, 0, -1], scores ranks [2.5, 2.5, 1] -> rho = sqrt(3)/2 ; b: constant -> 0
    assert m["s_srcc"] == pytest.approx((math.sqrt(3) / 2 + 0.0) / 2)
    assert m["s_acc"] == 0.0  # both have a tie for the top score
    assert m["acc"] == pytest.approx(2 / 6)


def test_summaries_match_the_paper_table3_from_table2():
    # FGAesQ (w DiffToken) row of Table 2 -> Table 3 Pair 0.753, Series 0.600
    per = {
        "natural": {"acc": 0.779, "f1": 0.779, "s_acc": 0.753, "s_srcc": 0.729},
        "aigc": {"acc": 0.709, "f1": 0.707, "s_acc": 0.561, "s_srcc": 0.482},
        "cropping": {"acc": 0.774, "f1": 0.773, "s_acc": 0.488, "s_srcc": 0.590},
    }
    s = summarize(per)
    assert s["pair"] == pytest.approx((0.779 + 0.708 + 0.7735) / 3)  # 0.7535, printed 0.753
    assert s["series"] == pytest.approx((0.741 + 0.5215 + 0.539) / 3)  # 0.6005, printed 0.600
    assert abs(s["pair"] - 0.753) <= 0.0006 and abs(s["series"] - 0.600) <= 0.0006


def test_fine_metrics_groups_by_category():
    s1 = _series(
        "s1", "b", ["a", "b", "c"], [3.0, 2.0, 1.0], [("a", "b", 1.0), ("b", "c", 1.0), ("a", "c", 1.0)]
    )
    s2 = _series("s2", "a", ["x", "y"], [2.0, 1.0], [("x", "y", 1.0)])
    m = fine_metrics([s1, s2])
    assert list(m["per_category"]) == ["a", "b"]
    assert m["per_category"]["b"]["acc"] == 1.0
    assert math.isnan(m["per_category"]["a"]["s_srcc"])


def test_coarse_metrics_plain_pearson():
    pred = [1.0, 2.0, 3.0, 4.0]
    mos = [10.0, 20.0, 40.0, 30.0]
    c = coarse_metrics(pred, mos)
    assert c["srcc"] == pytest.approx(0.8)  # 1 - 6*2/(4*15)
    assert c["plcc"] == pytest.approx(pearson(pred, mos))
    assert c["plcc"] == pytest.approx(40 / math.sqrt(5 * 500))  # centred products 22.5+2.5+7.5+7.5
