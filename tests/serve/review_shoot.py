"""A small real shoot for the review tests: two bursts of skimage photos in one flat folder, ranked by fgaesq-lite."""

from __future__ import annotations

from pathlib import Path

from rank_cli_helpers import burst_photos

SIZES = (3, 2)


def make_shoot(folder: Path) -> dict[str, list[Path]]:
    """Flat folder of two bursts (3 astronaut frames, 2 coffee frames) with EXIF capture times."""
    return burst_photos.make_bursts(folder, SIZES, max_side=240)


def rank_shoot(folder: Path) -> dict:
    """The `fgaesq rank` JSON document of the folder, ranked with the shipped fgaesq-lite."""
    from fgaesq.io import collect_paths
    from fgaesq.rank.pipeline import rank_paths
    from fgaesq.rank.report import rank_dict
    from fgaesq.scoring import load_scorer

    return rank_dict(rank_paths(collect_paths([folder]), load_scorer("fgaesq-lite", device="cpu"), root=folder))
