"""Default settings of `fgaesq calibrate` and `fgaesq refine` (light module: no heavy imports).

The paper gives no thresholds; each value here is a documented project choice.
"""

from __future__ import annotations

from dataclasses import dataclass

# calibration: |P − 0.5| < 0.1 is indistinguishable
THRESHOLD = 0.1
ALPHA = 0.25  # choix I-LSR regularisation: one virtual tie per pair on a two-image series
CARELESS_BELOW = 0.6
MIN_SCORED = 10


@dataclass
class Thresholds:
    """Every refinement threshold (see docs/dataset-tooling.md for the meaning of each)."""

    ssim_min: float = 0.35
    min_matches: int = 25
    matcher: str = "sift"
    indiscernible_ssim: float = 0.98
    indiscernible_mad: float = 2.0
    dark_max: float = 10.0
    bright_min: float = 245.0
    flat_std: float = 3.0
    broken_rows: float = 0.2
    crop_iou_max: float = 0.9
    crop_iou_min: float = 0.0
    clip_min: float = 0.2
    mllm_timeout: float = 120.0


DEFAULTS = Thresholds()
