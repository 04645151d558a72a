"""Losses against hand-computed values."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from fgaesq.train.losses import (
    LossWeights,
    bt_probabilities,
    ctalign_loss,
    emd_loss,
    listmle_loss,
    soft_bt_loss,
    total_loss,
)


def test_emd_uniform_vs_one_hot():
    # uniform prediction (CDF 0.1k) vs all votes in bin 1 (CDF 1): |diff| = 0.9 … 0.0
    # Σ diff² = 2.85 → sqrt(2.85 / 10) = 0.5338539
    target = torch.zeros(1, 10)
    target[0, 0] = 1
    assert emd_loss(torch.zeros(1, 10), target).item() == pytest.approx(math.sqrt(0.285), abs=1e-6)
    # a perfect prediction costs (almost) nothing and still has a finite gradient
    p = torch.tensor([[0.05, 0.05, 0.1, 0.2, 0.2, 0.2, 0.1, 0.05, 0.03, 0.02]])
    logits = p.log().requires_grad_()
    loss = emd_loss(logits, p)
    loss.backward()
    assert loss.item() < 1e-5 and torch.isfinite(logits.grad).all()


def test_emd_r1_and_batch_mean():
    t = torch.zeros(2, 10)
    t[0, 0] = 1
    t[1, 9] = 1
    # r = 1: mean |diff| = (0.9+…+0.0)/10 = 0.45 for row 0; row 1: CDF 0.1k vs 0…0,1 → (0.1+…+0.9)/10 = 0.45
    assert emd_loss(torch.zeros(2, 10), t, r=1).item() == pytest.approx(0.45, abs=1e-6)


def test_listmle_hand_value():
    s = torch.tensor([3.0, 1.0, 2.0])
    order = [torch.tensor([0, 2, 1])]  # f = 3, 2, 1
    # log(e³+e²+e¹) − 3 + log(e²+e¹) − 2 = log(1+e⁻¹+e⁻²) + log(1+e⁻¹)
    expect = math.log(1 + math.exp(-1) + math.exp(-2)) + math.log(1 + math.exp(-1))
    assert listmle_loss(s, order).item() == pytest.approx(expect, abs=1e-6)
    assert expect == pytest.approx(0.72086765, abs=1e-7)
    # two series: mean of the two; a 2-image series is the BT log-loss −log σ(s_better − s_worse)
    two = listmle_loss(s, [torch.tensor([0, 2, 1]), torch.tensor([1, 0])])
    bt = -F.logsigmoid(torch.tensor(1.0 - 3.0)).item()
    assert two.item() == pytest.approx((expect + bt) / 2, abs=1e-6)
    # temperature divides the scores
    assert listmle_loss(s * 2, order, temperature=2.0).item() == pytest.approx(expect, abs=1e-6)


def test_bt_and_soft_bt():
    s = torch.tensor([2.0, 1.0])
    a, b = torch.tensor([0]), torch.tensor([1])
    assert bt_probabilities(s, a, b).item() == pytest.approx(1 / (1 + math.exp(-1)), abs=1e-7)
    # −[0.8·log σ(1) + 0.2·log σ(−1)] = 0.8·0.3132617 + 0.2·1.3132617
    assert soft_bt_loss(s, a, b, torch.tensor([0.8])).item() == pytest.approx(0.51326169, abs=1e-6)


def test_ctalign_hand_values():
    better = torch.tensor([[1.0, 0.0], [2.0, 3.0]])
    worse = torch.tensor([[0.0, 0.0], [2.0, 1.0]])  # differences (1, 0) and (0, 2)
    text = torch.tensor([[1.0, 1.0], [1.0, 0.0]])  # cos = 1/√2 and 0
    assert ctalign_loss(better, worse, text).item() == pytest.approx(((1 - 2**-0.5) + 1.0) / 2, abs=1e-6)


def test_total_loss_switches():
    t = {"emd": torch.tensor(0.5), "listmle": torch.tensor(2.0), "soft_bt": torch.tensor(0.3), "align": torch.tensor(0.1)}
    w = LossWeights()
    assert total_loss(t, fine=False, w=w).item() == pytest.approx(0.5)
    assert total_loss(t, fine=True, w=w).item() == pytest.approx(2.0 + 10 * 0.1)
    w2 = LossWeights(listmle=False, soft_bt=1.0, align=0.0)
    assert total_loss(t, fine=True, w=w2).item() == pytest.approx(0.3)
    assert total_loss(t, fine=False, w=LossWeights(emd=False)).item() == 0.0
    heavy = LossWeights(emd_weight=20.0)  # weighs coarse batches only
    assert total_loss(t, fine=False, w=heavy).item() == pytest.approx(10.0)
    assert total_loss(t, fine=True, w=heavy).item() == pytest.approx(2.0 + 10 * 0.1)
