"""fgaesq.train: the FGAesQ training recipe (EMD + RankReg + CTAlign, alternating) on Lightning.

Exports are loaded lazily: importing this package imports neither torch nor Lightning; `train()` needs the
`train` extra (`pip install 'fgaesq[train]'`).
"""

from __future__ import annotations

import importlib

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

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'fgaesq.train' has no attribute {name!r}")
