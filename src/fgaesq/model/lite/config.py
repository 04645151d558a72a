"""Architecture and input options of fgaesq-lite (stored in its checkpoint JSON)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

ARCH = "fgaesq-lite"
#: Channel widths of EfficientNet-Lite0's 16 blocks (the pooled statistics are taken at `taps`).
BLOCK_WIDTHS = (16, 24, 24, 40, 40, 80, 80, 80, 112, 112, 112, 192, 192, 192, 192, 320)


@dataclass
class LiteConfig:
    """Architecture and input options of fgaesq-lite."""

    arch: str = ARCH
    work_size: int = 512  # long side of the reduced image the global view (and, if not native, the crops) come from
    view_size: int = 224  # global view and crop size
    n_crops: int = 3
    native: bool = True  # crops taken from the original pixels (False: from the work_size image, the first lite)
    crop_select: str = "detail"  # single-mode crops: "detail" (highest local contrast) or "quadrants" (fixed)
    taps: tuple[int, ...] = (0, 2, 4, 7, 10, 14, 15)  # EfficientNet-Lite0 blocks whose outputs are pooled
    feature_dim: int = 512
    head_dropout: tuple[float, float] = (0.2, 0.1)
    technical: int = 1  # version of the technical block appended to the descriptor (0 = none, 1, 2 = 1 + flat-window
    # noise from an extra "noise mosaic" view, 3 = 2 + the crops' JPEG quantisation step; model.lite.technical)
    desc_dropout: float = 0.0  # training only: dropout on the standardised backbone statistics (not on the
    # technical block), so the head cannot order series by memorised backbone patterns alone
    penalties: tuple[int, ...] = ()  # technical-block columns that can only lower the score (indices; names of
    # technical.PENALTY_SETS such as "noise" become indices): each reaches the score through a non-negative weight
    # (a monotone tilt of the logits), never through the head
    penalty_init: float = 0.125  # training only: the penalty weights' starting value (softplus of their parameter)
    penalty_from: str = "all"  # training only: the batches whose loss moves the penalty weights, "all" or "fine"
    # (only the within-series batches: a human-rated photo set can rank its JPEGs above its PNGs for other reasons)
    members: int = 1  # proj + head members averaged (a head ensemble on one descriptor; 1 = a single head)
    train_reference: bool = False  # training inputs of fine items: False = single mode, True = pair crops
    extra: dict = field(default_factory=dict)  # training provenance, free form

    @property
    def name(self) -> str:
        """Registry name of the model (the same for every lite variant)."""
        return ARCH

    @property
    def decode_size(self) -> int | None:
        """Long-side limit the image is decoded at: None (full resolution) for native crops, else work_size."""
        return None if self.native else self.work_size

    @property
    def view_dim(self) -> int:
        """Length of one view's pooled statistics."""
        return 2 * sum(BLOCK_WIDTHS[t] for t in self.taps) + 1280

    @property
    def tech_dim(self) -> int:
        """Length of the technical block (0 when ``technical`` is 0)."""
        from fgaesq.model.lite.technical import tech_names

        return len(tech_names(self.technical))

    @property
    def n_views(self) -> int:
        """Views per image: the global view, the crops and, with technical block 2 or 3, the noise mosaic."""
        return 1 + self.n_crops + (1 if self.technical >= 2 else 0)

    @property
    def grid(self) -> int:
        """Crop corners are multiples of this (8: the JPEG block grid, when the technical block is on)."""
        return 8 if self.technical and self.native else 1

    @property
    def desc_dim(self) -> int:
        """Length of the descriptor (global view + mean over crops + technical block)."""
        return 2 * self.view_dim + self.tech_dim

    def __post_init__(self) -> None:
        if any(isinstance(i, str) for i in self.penalties):  # names of PENALTY_SETS ("noise", "jpeg", ...)
            from fgaesq.model.lite.technical import penalty_columns

            names = tuple(i for i in self.penalties if isinstance(i, str))
            ints = tuple(int(i) for i in self.penalties if not isinstance(i, str))
            self.penalties = ints + penalty_columns(self.technical, names)
        self.penalties = tuple(self.penalties)
        if self.penalty_from not in ("all", "fine"):
            raise ValueError(f"penalty_from must be 'all' or 'fine', not {self.penalty_from!r}")
        if not self.penalty_init > 0:
            raise ValueError(f"penalty_init must be positive, not {self.penalty_init!r}")
        bad = [i for i in self.penalties if not 0 <= i < self.tech_dim]
        if bad or len(set(self.penalties)) != len(self.penalties):
            raise ValueError(f"penalties {list(self.penalties)}: each must be a distinct technical-block column "
                             f"0..{self.tech_dim - 1}")  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        d = asdict(self)
        d["taps"], d["head_dropout"] = list(self.taps), list(self.head_dropout)
        d["penalties"] = list(self.penalties)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LiteConfig:
        """Build from a JSON dict (unknown keys refused)."""
        d = dict(d)
        if d.get("arch", ARCH) != ARCH:
            raise ValueError(f"config is for architecture {d.get('arch')!r}, not {ARCH!r}")
        unknown = sorted(set(d) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown fgaesq-lite config field(s) {unknown}")
        d.setdefault("native", False)  # checkpoints written before native views had reduced-image crops
        d.setdefault("crop_select", "quadrants")
        d.setdefault("n_crops", 2)
        d.setdefault("technical", 0)  # checkpoints written before the technical block have none
        from fgaesq.model.lite.technical import VERSIONS

        if d["technical"] not in VERSIONS:
            raise ValueError(f"technical block version must be one of {VERSIONS}, not {d['technical']!r}")
        d.setdefault("members", 1)  # checkpoints written before head ensembles have one head
        if not isinstance(d["members"], int) or d["members"] < 1:
            raise ValueError(f"members must be a positive integer, not {d['members']!r}")
        if not 0.0 <= float(d.get("desc_dropout", 0.0)) < 1.0:
            raise ValueError(f"desc_dropout must be in [0, 1), not {d['desc_dropout']!r}")
        if d["crop_select"] not in ("detail", "quadrants"):
            raise ValueError(f"crop_select must be 'detail' or 'quadrants', not {d['crop_select']!r}")
        d["taps"] = tuple(d.get("taps", cls.taps))
        d["penalties"] = tuple(int(i) for i in d.get("penalties", ()))
        d["head_dropout"] = tuple(d.get("head_dropout", (0.2, 0.1)))
        return cls(**d)
