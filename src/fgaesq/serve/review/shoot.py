"""A ranked shoot as the review app sees it: series of frames in rank order, from a ranking document."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

#: Top two frames whose scores differ by less than this (on the 1-10 scale) are shown as a near-tie.
DEFAULT_NEAR_TIE = 0.1


class ShootError(ValueError):
    """The ranking cannot be used for review; the message names the file and the fix."""


@dataclass
class Frame:
    """One photo of the shoot: where it is, its series and its place in the model's ranking."""

    id: int
    path: Path  # absolute
    rel: str  # path relative to the shoot folder, '/'-separated (the key in the database and in votes)
    series: int  # index into Shoot.series
    rank: int
    score: float
    rating: int  # the model's stars for this rank (best = 5)


@dataclass
class ShootSeries:
    """One series: its frames best first (the model's order)."""

    index: int
    name: str
    frames: list[Frame]
    near_tie: bool = False

    @property
    def best(self) -> Frame:
        """The model's best frame."""
        return self.frames[0]

    @property
    def spread(self) -> float:
        """Score of the best frame minus score of the worst."""
        return self.frames[0].score - self.frames[-1].score

    @property
    def margin(self) -> float | None:
        """Score gap between the first and second frame (None for a single frame)."""
        return self.frames[0].score - self.frames[1].score if len(self.frames) > 1 else None


@dataclass
class Shoot:
    """A folder of photos grouped into ranked series."""

    root: Path
    model: str
    series: list[ShootSeries]
    frames: list[Frame] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # 'path: reason' for files the ranking could not use
    _index: dict[str, Frame] = field(default_factory=dict, repr=False, compare=False)

    def frame_by_rel(self, rel: str) -> Frame | None:
        """The frame stored under `rel`, or None."""
        if len(self._index) != len(self.frames):
            self._index = {f.rel: f for f in self.frames}
        return self._index.get(rel)


def _locate(raw: str, root: Path, base: Path | None) -> Path | None:
    """The existing file a ranking path names: absolute, or relative to the current folder, the ranking or root."""
    p = Path(raw)
    if p.is_absolute():
        return p if p.is_file() else None
    for start in (Path.cwd(), base, root):
        if start is not None and (start / p).is_file():
            return (start / p).resolve()
    return None


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def shoot_from_doc(doc: dict, root: str | os.PathLike, *, base: Path | None = None,
                   near_tie: float = DEFAULT_NEAR_TIE) -> Shoot:
    """Build a Shoot from a `fgaesq rank` JSON document; files that no longer exist are listed in `skipped`."""
    if not isinstance(doc, dict) or not str(doc.get("schema", "")).startswith("fgaesq.ranking/"):
        raise ShootError("not a `fgaesq rank --out FILE.json` document (no fgaesq.ranking schema)")
    root_p = Path(root).resolve()
    shoot = Shoot(root_p, str(doc.get("model", "?")), [])
    shoot.skipped = [f"{e.get('path')}: {e.get('error')}" for e in doc.get("errors", [])]
    for s in doc.get("series", []):
        frames: list[Frame] = []
        for im in sorted(s.get("ranking", []), key=lambda r: r["rank"]):
            path = _locate(str(im["path"]), root_p, base)
            if path is None:
                shoot.skipped.append(f"{im['path']}: file not found")
                continue
            frames.append(Frame(len(shoot.frames) + len(frames), path, _rel(path, root_p), len(shoot.series),
                                len(frames) + 1, float(im["score"]), int(im.get("rating", 0))))
        if not frames:
            continue
        entry = ShootSeries(len(shoot.series), str(s["series"]), frames)
        entry.near_tie = entry.margin is not None and entry.margin < near_tie
        shoot.series.append(entry)
        shoot.frames.extend(frames)
    if not shoot.frames:
        raise ShootError("the ranking names no photo that exists any more")
    return shoot


def load_rank_json(path: str | os.PathLike, root: str | os.PathLike, *, near_tie: float = DEFAULT_NEAR_TIE) -> Shoot:
    """Read an earlier `fgaesq rank --out rank.json` for review."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ShootError(f"{p}: no such file; give the JSON written by `fgaesq rank DIR --out FILE.json`") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ShootError(f"{p}: not readable JSON ({e}); rerun `fgaesq rank DIR --out FILE.json`") from None
    try:
        return shoot_from_doc(doc, root, base=p.resolve().parent, near_tie=near_tie)
    except ShootError as e:
        raise ShootError(f"{p}: {e}") from None
