"""fgaesq.train: the FGAesQ training recipe (EMD + RankReg + CTAlign, alternating) on Lightning.

Importing this package does not import Lightning; `train()` does (install the `train` extras).
"""

from fgaesq.train.config import TrainConfig, load_config
from fgaesq.train.inputs import DiffTokenInputs, InputBuilder, input_builder_for
from fgaesq.train.losses import (
    LossWeights,
    bt_probabilities,
    ctalign_loss,
    emd_loss,
    listmle_loss,
    soft_bt_loss,
    total_loss,
)
from fgaesq.train.run import build_model, export_model, train

__all__ = [
    "DiffTokenInputs",
    "InputBuilder",
    "LossWeights",
    "TrainConfig",
    "bt_probabilities",
    "build_model",
    "ctalign_loss",
    "emd_loss",
    "export_model",
    "input_builder_for",
    "listmle_loss",
    "load_config",
    "soft_bt_loss",
    "total_loss",
    "train",
]
