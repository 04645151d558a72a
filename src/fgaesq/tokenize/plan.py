"""Token plans: per-slot provenance of a sequence (which pixels, which positional row), before pixels are read.

Building the plan first lets the tokenizer decide what survives the 512-token budget and then read, normalise and
filter only the surviving tokens.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

KIND_CLS, KIND_NATIVE, KIND_COARSE, KIND_FINE, KIND_PAD = 0, 1, 2, 3, 9
GRID_NONE, GRID_CLS, GRID_16, GRID_32 = -1, 0, 1, 2
FIELDS = ("kind", "y", "x", "cell", "pos_grid", "pos_index", "true_pos_index")


@dataclass
class Plan:
    """Per-slot provenance arrays (all the same length)."""

    kind: np.ndarray
    y: np.ndarray
    x: np.ndarray
    cell: np.ndarray
    pos_grid: np.ndarray
    pos_index: np.ndarray
    true_pos_index: np.ndarray

    def __len__(self) -> int:
        return int(self.kind.shape[0])

    def take(self, index: np.ndarray) -> Plan:
        """The plan restricted to slots `index` (in that order)."""
        return Plan(*(getattr(self, f)[index] for f in FIELDS))

    def padded(self, length: int) -> Plan:
        """The plan extended with padding slots up to `length`."""
        n = length - len(self)
        if n < 0:
            raise ValueError(f"plan of length {len(self)} does not fit {length} slots")
        fill = {"kind": KIND_PAD}
        return Plan(
            *(np.concatenate([getattr(self, f), np.full(n, fill.get(f, -1), dtype=getattr(self, f).dtype)]) for f in FIELDS)
        )


def _cls(true_index: int) -> list[np.ndarray]:
    return [np.array([v], dtype=dt) for v, dt in zip((KIND_CLS, -1, -1, -1, GRID_CLS, 0, true_index), _DTYPES, strict=True)]


_DTYPES = (np.int8, np.int32, np.int32, np.int32, np.int32, np.int32, np.int32)


def native_plan(h: int, w: int) -> tuple[Plan, tuple[int, int]]:
    """CLS + every 16-px block of the image (zero-padded to 16) in row-major order; returns the plan and grid."""
    gh, gw = math.ceil(h / 16), math.ceil(w / 16)
    i = np.arange(gh * gw, dtype=np.int32)
    cols = [np.full(i.size, 1, np.int8), 16 * (i // gw), 16 * (i % gw), i, np.full(i.size, GRID_16, np.int32), i, i]
    cls = _cls(-1)
    return Plan(*(np.concatenate([c, v.astype(dt)]) for c, v, dt in zip(cls, cols, _DTYPES, strict=True))), (gh, gw)


def multiscale_plan(rows: int, cols: int, fine_cells: np.ndarray, *, compat: bool) -> Plan:
    """CLS + coarse tokens (non-fine cells, ascending) + fine quarters (fine cells ascending; TL, TR, BL, BR).

    compat=True assigns the fine positional rows in sorted fine-grid order (the release's ordering quirk);
    compat=False gives each fine token its own position.
    """
    n = rows * cols
    fine = np.unique(np.asarray(fine_cells, dtype=np.int64))
    if fine.size and (fine[0] < 0 or fine[-1] >= n):
        raise ValueError(f"fine cells must lie in 0..{n - 1}")
    is_fine = np.zeros(n, dtype=bool)
    is_fine[fine] = True
    coarse = np.nonzero(~is_fine)[0]
    c_cols = [
        np.full(coarse.size, KIND_COARSE),
        32 * (coarse // cols),
        32 * (coarse % cols),
        coarse,
        np.full(coarse.size, GRID_32),
        coarse,
        coarse,
    ]
    q = np.arange(4)
    fy = (32 * (fine // cols))[:, None] + 16 * (q // 2)[None, :]
    fx = (32 * (fine % cols))[:, None] + 16 * (q % 2)[None, :]
    true16 = ((fy // 16) * (2 * cols) + fx // 16).ravel()
    used16 = np.sort(true16) if compat else true16
    f_cols = [
        np.full(true16.size, KIND_FINE),
        fy.ravel(),
        fx.ravel(),
        np.repeat(fine, 4),
        np.full(true16.size, GRID_16),
        used16,
        true16,
    ]
    return Plan(
        *(
            np.concatenate([c, a.astype(dt), b.astype(dt)])
            for c, a, b, dt in zip(_cls(0), c_cols, f_cols, _DTYPES, strict=True)
        )
    )
