"""Average trained fgaesq-lite heads into one model (config ``members``; one backbone pass at inference).

``python -m benchmarks.known_order.ensemble_lite OUT.safetensors RUN1.safetensors RUN2.safetensors ...``

The runs must share the descriptor config (e.g. the same recipe with ``train_lite --seed 0/1/2``); each keeps its
own standardisation, projection and head, and the scores are the mean of the members' bin distributions. No
choice among the runs is made here: every run given is a member, so nothing is selected on any split.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fgaesq.model import load_model, save_checkpoint
from fgaesq.model.lite import FGAesQLite


def main() -> None:
    """Write the ensemble checkpoint."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("runs", type=Path, nargs="+")
    args = ap.parse_args()
    runs = [load_model(p) for p in args.runs]
    ens = FGAesQLite.ensemble(runs)
    ens.config.extra = {
        "ensemble_of": [str(p) for p in args.runs],
        "member_extra": [dict(m.config.extra) for m in runs],
    }
    print(f"wrote {save_checkpoint(ens, args.out)} ({len(runs)} members)")


if __name__ == "__main__":
    main()
