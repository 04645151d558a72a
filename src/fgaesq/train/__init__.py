"""fgaesq.train: the FGAesQ training recipe (EMD + RankReg + CTAlign, alternating) on Lightning.

Exports are loaded lazily: importing this package imports neither torch nor Lightning; `train()` needs the
`train` extra (`pip install 'fgaesq[train]'`).
"""

from __future__ import annotations

from fgaesq._lazy import lazy_exports

_EXPORTS = {
    "TrainConfig": "fgaesq.train.config",
    "load_config": "fgaesq.train.config",
    "DiffTokenInputs": "fgaesq.train.inputs",
    "InputBuilder": "fgaesq.train.inputs",
    "input_builder_for": "fgaesq.train.inputs",
    "LossWeights": "fgaesq.train.losses",
    "bt_probabilities": "fgaesq.train.losses",
    "ctalign_loss": "fgaesq.train.losses",
    "emd_loss": "fgaesq.train.losses",
    "listmle_loss": "fgaesq.train.losses",
    "soft_bt_loss": "fgaesq.train.losses",
    "total_loss": "fgaesq.train.losses",
    "build_model": "fgaesq.train.run",
    "export_model": "fgaesq.train.run",
    "train": "fgaesq.train.run",
}

__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
