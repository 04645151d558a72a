"""fgaesq.scoring: the Scorer protocol, the scorers of every model family, and `load_scorer(spec)`.

Below rank, evaluate, serve and train's `--init`: they all get their model through `load_scorer`.
"""

from fgaesq.scoring.device import autocast, autocast_dtype, pick_device
from fgaesq.scoring.load import (
    DEFAULT_HUB_MODEL,
    STARTER_MODEL,
    ScorerError,
    load_scorer,
    scorer_for,
    weights_message,
)
from fgaesq.scoring.protocol import ImageRef, Scorer

__all__ = [
    "DEFAULT_HUB_MODEL",
    "STARTER_MODEL",
    "ImageRef",
    "Scorer",
    "ScorerError",
    "autocast",
    "autocast_dtype",
    "load_scorer",
    "pick_device",
    "scorer_for",
    "weights_message",
]
