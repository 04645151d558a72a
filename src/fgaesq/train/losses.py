"""The FGAesQ training losses.

- EMD (coarse batches): ((1/K) Σ_k |CDF_p(k) − CDF_p̂(k)|^r)^(1/r), K = 10, r = 2, averaged over the batch.
- RankReg (fine batches): Bradley–Terry pair probabilities P′(a ≻ b) = σ((s_a − s_b)/T) and ListMLE over each
  series' images in ground-truth order (best first), −Σ_i log(exp(s_{r_i}/T) / Σ_{j ≥ i} exp(s_{r_j}/T)), summed
  over the positions of a series and averaged over series; optionally the soft BT cross-entropy to calibrated pair
  probabilities, −[p·log P′ + (1 − p)·log(1 − P′)], averaged over pairs.
- CTAlign (fine batches with texts): 1 − cos(E_v(better) − E_v(worse), E_t(text)), averaged over pairs.
- Total: L = δ·(λ·L_align + L_RR) + (1 − δ)·L_EMD, δ = 1 on fine batches, 0 on coarse ones, λ = 10.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F


def emd_loss(logits: torch.Tensor, target: torch.Tensor, r: float = 2.0) -> torch.Tensor:
    """EMD between softmax(logits) (B, K) and target distributions (B, K), mean over the batch."""
    pred = logits.float().softmax(dim=-1)
    diff = (pred.cumsum(-1) - target.float().cumsum(-1)).abs()
    per = diff.pow(r).mean(-1).clamp_min(1e-12).pow(1.0 / r)
    return per.mean()


def bt_probabilities(scores: torch.Tensor, a: torch.Tensor, b: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """Bradley–Terry P′(a ≻ b) = σ((s_a − s_b)/T) for index tensors a, b."""
    return torch.sigmoid((scores[a] - scores[b]) / temperature)


def listmle_loss(scores: torch.Tensor, orders: Sequence[torch.Tensor], temperature: float = 1.0) -> torch.Tensor:
    """ListMLE: for each order (indices into `scores`, best first) Σ_i [logsumexp(f[i:]) − f[i]]; mean over orders."""
    losses = []
    for order in orders:
        if len(order) < 2:
            continue
        f = scores[order].float() / temperature
        tail = torch.logcumsumexp(f.flip(0), dim=0).flip(0)
        losses.append((tail - f).sum())
    if not losses:
        return scores.sum() * 0.0
    return torch.stack(losses).mean()


def soft_bt_loss(
    scores: torch.Tensor, a: torch.Tensor, b: torch.Tensor, p: torch.Tensor, temperature: float = 1.0
) -> torch.Tensor:
    """Soft BT cross-entropy −[p·log σ(d) + (1 − p)·log σ(−d)], d = (s_a − s_b)/T, mean over pairs."""
    if len(a) == 0:
        return scores.sum() * 0.0
    d = (scores[a].float() - scores[b].float()) / temperature
    return -(p * F.logsigmoid(d) + (1 - p) * F.logsigmoid(-d)).mean()


def ctalign_loss(feat_better: torch.Tensor, feat_worse: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
    """CTAlign 1 − cos(E_v(better) − E_v(worse), E_t(text)), mean over pairs (rows)."""
    if feat_better.shape[0] == 0:
        return feat_better.sum() * 0.0
    diff = feat_better.float() - feat_worse.float()
    return (1.0 - F.cosine_similarity(diff, text.float(), dim=-1, eps=1e-8)).mean()


@dataclass
class LossWeights:
    """Switches and weights of the loss terms (all on = the paper's recipe; turn off for the ablations)."""

    emd: bool = True  # coarse batches
    emd_weight: float = 1.0  # weight of the EMD loss of a coarse batch (fine batches' losses keep weight 1)
    listmle: bool = True  # RankReg ListMLE on fine batches
    soft_bt: float = 0.0  # weight of the optional soft BT cross-entropy (0 = off)
    align: float = 10.0  # λ, CTAlign weight (pairs without text contribute nothing)
    temperature: float = 1.0  # BT / ListMLE temperature T
    emd_r: float = 2.0


def total_loss(terms: dict[str, torch.Tensor], fine: bool, w: LossWeights) -> torch.Tensor:
    """L = δ(λ·L_align + L_RR) + (1 − δ)·w_EMD·L_EMD with δ = `fine`; missing or switched-off terms count 0."""
    zero = next(iter(terms.values())).new_zeros(()) if terms else torch.zeros(())
    if not fine:
        return w.emd_weight * terms["emd"] if (w.emd and "emd" in terms) else zero
    rr = zero
    if w.listmle and "listmle" in terms:
        rr = rr + terms["listmle"]
    if w.soft_bt and "soft_bt" in terms:
        rr = rr + w.soft_bt * terms["soft_bt"]
    if w.align and "align" in terms:
        rr = rr + w.align * terms["align"]
    return rr
