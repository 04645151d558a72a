"""The LightningModule: one optimizer step per batch, loss by batch kind (δ), validation with the paper's metrics."""

from __future__ import annotations

import math
from typing import Any

import lightning as L
import numpy as np
import torch

from fgaesq.data.datasets import CoarseBatch, FineBatch
from fgaesq.data.validation import ValBatch
from fgaesq.train.config import TrainConfig
from fgaesq.train.losses import (
    LossWeights,
    bt_probabilities,
    ctalign_loss,
    emd_loss,
    listmle_loss,
    soft_bt_loss,
    total_loss,
)
from fgaesq.train.text import TextTower


def loss_weights(cfg: TrainConfig) -> LossWeights:
    """The loss switches of a run config."""
    c = cfg.loss
    return LossWeights(emd=c.emd, emd_weight=c.emd_weight, listmle=c.listmle, soft_bt=c.soft_bt,
                       align=c.align_weight, temperature=c.temperature, emd_r=c.emd_r)


class FGAesQModule(L.LightningModule):
    """Trains any model whose forward(batch) returns FGAesQOutput (features, logits, score)."""

    def __init__(self, model: torch.nn.Module, cfg: TrainConfig, text_tower: TextTower | None = None) -> None:
        super().__init__()
        self.model = model
        self.cfg = cfg
        self.weights = loss_weights(cfg)
        # kept outside the module tree: frozen, not checkpointed, not wrapped by DDP (moved in on_fit_start)
        self._text_holder = [text_tower]
        self._val: dict[str, list] = {"f": [], "c": []}

    @property
    def text(self) -> TextTower | None:
        """The frozen CLIP text tower (None when CTAlign is off or the data has no texts)."""
        return self._text_holder[0]

    def on_fit_start(self) -> None:
        """Move the frozen text tower to the training device."""
        if self.text is not None:
            self.text.to(self.device)

    # ------------------------------------------------------------------ training
    def forward(self, inputs: Any):
        """Model output for a batch of inputs."""
        return self.model(inputs)

    def training_step(self, batch: CoarseBatch | FineBatch, batch_idx: int) -> torch.Tensor:
        """Loss of one batch: EMD on coarse batches, λ·CTAlign + RankReg on fine ones."""
        out = self.model(batch.inputs)
        w = self.weights
        terms: dict[str, torch.Tensor] = {}
        fine = isinstance(batch, FineBatch)
        self._last_fine = fine
        n = len(out.score)
        if not fine:
            if w.emd:
                terms["emd"] = emd_loss(out.logits, batch.target, w.emd_r)
        else:
            s = out.score
            a, b, p = batch.pair_a, batch.pair_b, batch.pair_p
            if w.listmle:
                terms["listmle"] = listmle_loss(s, batch.orders, w.temperature)
            if w.soft_bt and len(a):
                terms["soft_bt"] = soft_bt_loss(s, a, b, p, w.temperature)
            keep = [k for k, t in enumerate(batch.texts) if t]
            if w.align and self.text is not None and keep:
                kk = torch.as_tensor(keep, device=s.device)
                better = torch.where(p[kk] > 0.5, a[kk], b[kk])
                worse = torch.where(p[kk] > 0.5, b[kk], a[kk])
                emb = self.text.encode([batch.texts[k] for k in keep])
                terms["align"] = ctalign_loss(out.features[better], out.features[worse], emb)
            if len(a):
                with torch.no_grad():
                    acc = ((bt_probabilities(s, a, b) - 0.5) * (p - 0.5) > 0).float().mean()
                self.log("train/pair_acc", acc, batch_size=n, on_step=True, on_epoch=True)
        loss = total_loss(terms, fine, w)
        # keep every parameter in the graph so DDP ranks stay in step even when all terms are off
        loss = loss + 0.0 * out.logits.float().sum()
        kind = "fine" if fine else "coarse"
        for k, v in terms.items():
            self.log(f"train/{k}", v.detach(), batch_size=n, on_step=True, on_epoch=True)
        self.log(f"train/loss_{kind}", loss.detach(), batch_size=n, on_step=True, on_epoch=True, prog_bar=True)
        self.log("train/loss", loss.detach(), batch_size=n, on_step=True, on_epoch=False)
        return loss

    def on_after_backward(self) -> None:
        """Drop coarse batches' gradients of the parameters the model reserves for fine batches
        (``model.fine_only_parameters``, e.g. fgaesq-lite's penalty weights with penalty_from "fine")."""
        if getattr(self, "_last_fine", True):
            return
        for name in getattr(self.model, "fine_only_parameters", ()):
            self.model.get_parameter(name).grad = None  # AdamW then leaves it alone for this step

    def configure_optimizers(self):
        """AdamW over the trainable parameters (constant learning rate)."""
        params = [p for p in self.model.parameters() if p.requires_grad]
        return torch.optim.AdamW(params, lr=self.cfg.optim.lr, weight_decay=self.cfg.optim.weight_decay)

    # ------------------------------------------------------------------ exact resume: RNG states
    def on_save_checkpoint(self, checkpoint: dict) -> None:
        """Store the RNG states and the run config (exact resume)."""
        checkpoint["fgaesq_rng"] = {"torch": torch.get_rng_state()}
        if torch.cuda.is_available():
            checkpoint["fgaesq_rng"]["cuda"] = torch.cuda.get_rng_state_all()
        checkpoint["fgaesq_config"] = self.cfg.to_dict()

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        """Restore the RNG states saved with the checkpoint."""
        rng = checkpoint.get("fgaesq_rng") or {}
        if "torch" in rng:
            torch.set_rng_state(rng["torch"])
        if "cuda" in rng and torch.cuda.is_available() and len(rng["cuda"]) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(rng["cuda"])

    # ------------------------------------------------------------------ validation
    def validation_step(self, batch: ValBatch, batch_idx: int, dataloader_idx: int = 0) -> None:
        """Score one validation batch; metrics are computed at epoch end."""
        out = self.model(batch.inputs)
        self._val[batch.kind].append(
            (batch.index.cpu().numpy(), batch.image.cpu().numpy(), out.score.float().cpu().numpy())
        )

    def on_validation_epoch_start(self) -> None:
        """Reset the collected validation scores."""
        self._val = {"f": [], "c": []}

    def _gathered(self, kind: str) -> list:
        rows = self._val[kind]
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            parts: list = [None] * torch.distributed.get_world_size()
            torch.distributed.all_gather_object(parts, rows)
            rows = [r for part in parts for r in part]
        return rows

    def on_validation_epoch_end(self) -> None:
        """Gather scores from all ranks and log the paper's metrics and `val/select`."""
        dm = self.trainer.datamodule
        metrics: dict[str, float] = {}
        if dm is not None and dm.val_fine:
            metrics.update(fine_val_metrics(dm.val_fine, self._gathered("f")))
        if dm is not None and dm.val_coarse:
            metrics.update(coarse_val_metrics(dm.val_coarse, self._gathered("c")))
        select = selection_metric(metrics, self.cfg.trainer.select)
        if select is not None:
            metrics["val/select"] = select
        for k, v in metrics.items():
            if not math.isnan(v):  # undefined metrics (e.g. s-SRCC without 3-image series) are not logged
                self.log(k, float(v), sync_dist=False, prog_bar=k in ("val/select", "val/acc"))
        self._val = {"f": [], "c": []}


SELECT_RULES = ("fine", "both", "coarse")


def selection_metric(metrics: dict[str, float], rule: str) -> float | None:
    """`val/select` under ``rule`` (trainer.select) from the validation metrics; None without validation data.

    fine: (Pair + Series)/2; both: (Pair + Series + coarse SRCC)/3; coarse: coarse SRCC. A rule whose data is
    missing falls back to what was validated (fine metrics, else the coarse SRCC)."""
    if rule not in SELECT_RULES:
        raise ValueError(f"trainer.select must be one of {', '.join(SELECT_RULES)}, not {rule!r}")
    fine = (metrics["val/pair"] + metrics["val/series"]) / 2 if "val/pair" in metrics else None
    coarse = metrics.get("val/coarse_srcc")
    coarse = None if coarse is None or math.isnan(coarse) else coarse
    if rule == "both" and fine is not None and coarse is not None:
        return (metrics["val/pair"] + metrics["val/series"] + coarse) / 3
    if rule == "coarse" and coarse is not None:
        return coarse
    return fine if fine is not None else coarse


def fine_val_metrics(series: list, rows: list) -> dict[str, float]:
    """Paper metrics (fgaesq.evaluate) from pairwise validation scores; rows come in (a, b) pairs."""
    from fgaesq.evaluate.metrics import PairScore, SeriesScores, fine_metrics

    pair_scores: dict[int, dict[tuple[int, int], tuple[float, float]]] = {}
    for index, image, score in rows:
        for k in range(0, len(index), 2):
            s = int(index[k])
            pair_scores.setdefault(s, {})[(int(image[k]), int(image[k + 1]))] = (float(score[k]), float(score[k + 1]))
    out = []
    for s, ps in sorted(pair_scores.items()):
        rec = series[s]
        n = len(rec.images)
        acc: list[list[float]] = [[] for _ in range(n)]
        for (i, j), (si, sj) in ps.items():
            acc[i].append(si)
            acc[j].append(sj)
        img_scores = tuple(float(np.mean(v)) if v else float("nan") for v in acc)
        names = tuple(str(i) for i in range(n))
        pairs = tuple((str(p.a), str(p.b), p.p) for p in rec.pairs)
        pscores = []
        for p in rec.pairs:
            if (p.a, p.b) in ps:
                sa, sb = ps[(p.a, p.b)]
            elif (p.b, p.a) in ps:
                sb, sa = ps[(p.b, p.a)]
            else:
                continue
            pscores.append(PairScore(sa, sb, p.p))
        out.append(SeriesScores(rec.series, rec.category or "all", names, img_scores, pairs, tuple(pscores)))
    m = fine_metrics(out)
    cats = m["per_category"]
    # summaries as fgaesq.evaluate's, but a metric undefined for a category (s-SRCC without 3-image series)
    # is left out of its mean instead of making the summary NaN
    res = {
        "val/pair": float(np.mean([np.nanmean([v["acc"], v["f1"]]) for v in cats.values()])),
        "val/series": float(np.mean([np.nanmean([v["s_acc"], v["s_srcc"]]) for v in cats.values()])),
    }
    for c, v in cats.items():
        for key in ("acc", "f1", "s_acc", "s_srcc"):
            res[f"val/{c}/{key}"] = v[key]
    for key in ("acc", "s_srcc"):
        vals = [v[key] for v in cats.values() if not math.isnan(v[key])]
        if vals:
            res[f"val/{key}"] = float(np.mean(vals))
    return res


def coarse_val_metrics(records: list, rows: list) -> dict[str, float]:
    """SRCC / PLCC of predicted scores against the label means."""
    from fgaesq.evaluate.metrics import coarse_metrics

    pred: dict[int, float] = {}
    for index, _, score in rows:
        for i, s in zip(index, score, strict=True):
            pred[int(i)] = float(s)
    keys = sorted(pred)
    if len(keys) < 2:
        return {}
    m = coarse_metrics([pred[k] for k in keys], [records[k].mean for k in keys])
    return {"val/coarse_srcc": m["srcc"], "val/coarse_plcc": m["plcc"]}
