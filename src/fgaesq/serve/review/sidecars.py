"""Review decisions written as XMP sidecars (`<photo>.xmp`): xmp:Rating and xmp:Label, through fgaesq.io.xmp."""

from __future__ import annotations

from pathlib import Path

from fgaesq.io.xmp import sidecar_path, write_sidecar
from fgaesq.serve.review.shoot import Frame, Shoot
from fgaesq.serve.review.store import FrameState

LABELS = {"pick": "Green", "reject": "Red", "": ""}


def rating_for(frame: Frame, state: FrameState, *, is_best: bool, reject_minus_one: bool) -> int:
    """Stars for a decision: the user's stars; else a pick gets the model's stars (best = 5), a reject 0 (or -1)."""
    if state.flag == "reject" and reject_minus_one:
        return -1
    if state.stars is not None:
        return state.stars
    if state.flag == "pick":
        return 5 if is_best else frame.rating
    return 0


def write_decision(shoot: Shoot, frame: Frame, state: FrameState, *, is_best: bool, reject_minus_one: bool = False) -> Path | None:
    """Write the frame's sidecar; an undecided frame without a sidecar gets none. Returns the sidecar written."""
    if not state.flag and state.stars is None and not sidecar_path(frame.path).exists():
        return None
    series = shoot.series[frame.series]
    fields = {"Series": series.name, "Rank": str(frame.rank), "Score": f"{frame.score:.4f}", "Model": shoot.model,
              "Decision": state.flag or "none"}
    return write_sidecar(frame.path, rating=rating_for(frame, state, is_best=is_best, reject_minus_one=reject_minus_one),
                         label=LABELS[state.flag], fields=fields)
