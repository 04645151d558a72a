"""Comparison of tokenizer output with a recorded golden case (tests/golden), used by the parity tests."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from fgaesq.tokenize.types import Tokens

# tests/golden/README.md: decisions and provenance exact; patches / positional rows within 1e-6 per value.
VALUE_TOL = 1e-6
PATCH_SUM_TOL = 768 * VALUE_TOL  # a per-slot sum of 768 values
POS_SUM_TOL = 768 * VALUE_TOL
IMPORTANCE_TOL = 2e-5
PROVENANCE = ("tok_kind", "tok_y", "tok_x", "tok_cell", "pos_grid", "pos_index", "true_pos_index")


def _max_abs(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)), initial=0.0))


def compare_tokens(tokens: Tokens, record: Mapping[str, np.ndarray], prefix: str = "") -> list[str]:
    """Mismatches between `tokens` and a golden record (arrays named `prefix + name`); empty when they agree."""
    bad: list[str] = []
    n = len(tokens)
    if n != record[prefix + "masks"].shape[0]:
        return [f"length {n} != {record[prefix + 'masks'].shape[0]}"]
    for name in PROVENANCE:
        got, want = np.asarray(tokens.info[name]), record[prefix + name]
        if not np.array_equal(got, want):
            bad.append(f"{name}: {int(np.sum(got != want))} slots differ (first at {int(np.argmax(got != want))})")
    mask = tokens.mask().numpy()
    if not np.array_equal(mask, record[prefix + "masks"]):
        bad.append(f"masks: {int(np.sum(mask != record[prefix + 'masks']))} slots differ")
    patches = tokens.patches.reshape(n, -1).numpy()
    pos = tokens.pos.numpy()
    checks = [
        ("patch_sum", patches.astype(np.float64).sum(1), record[prefix + "patch_sum"], PATCH_SUM_TOL),
        ("patch_head8", patches[:, :8], record[prefix + "patch_head8"], VALUE_TOL),
        ("pos_sum", pos.astype(np.float64).sum(1), record[prefix + "pos_sum"], POS_SUM_TOL),
        ("pos_head8", pos[:, :8], record[prefix + "pos_head8"], VALUE_TOL),
    ]
    if prefix + "patches" in record:  # full tensors, where stored
        checks.append(("patches", patches, record[prefix + "patches"].reshape(n, -1), VALUE_TOL))
    if prefix + "pos_embeds" in record:
        checks.append(("pos_embeds", pos, record[prefix + "pos_embeds"], VALUE_TOL))
    for name, got, want, tol in checks:
        err = _max_abs(got, want)
        if not err <= tol:
            bad.append(f"{name}: max abs difference {err:.3g} > {tol:.3g}")
    for name in ("fine_cells", "fine_cells_sample_order"):
        if prefix + name in record and list(tokens.info[name]) != record[prefix + name].tolist():
            bad.append(f"{name}: {tokens.info[name]} != {record[prefix + name].tolist()}")
    if prefix + "kept_index" in record:
        kept = tokens.info.get("kept_index")
        if kept is None or not np.array_equal(kept, record[prefix + "kept_index"]):
            bad.append("kept_index differs")
    return bad


def compare_importance(tokens: Tokens, record: Mapping[str, np.ndarray], prefix: str = "") -> list[str]:
    """Mismatches in the pair-mode importance map (non-NaN cells), the NaN pattern and the candidate list."""
    bad: list[str] = []
    want = record[prefix + "importance"]
    got = np.asarray(tokens.info["importance"])
    if got.shape != want.shape:
        return [f"importance shape {got.shape} != {want.shape}"]
    known = ~np.isnan(want)
    if not np.array_equal(np.isnan(got), ~known):
        bad.append("importance: the random-fill (NaN) cells differ")
    err = _max_abs(got[known], want[known])
    if not err <= IMPORTANCE_TOL:
        bad.append(f"importance: max abs difference {err:.3g} > {IMPORTANCE_TOL:.3g}")
    if not np.array_equal(np.asarray(tokens.info["candidates"]), record[prefix + "candidates"]):
        bad.append("candidates: set or order differs")
    return bad


def forced_decisions(record: Mapping[str, np.ndarray], prefix: str = "") -> dict:
    """The recorded decisions of one image, in the keyword form `DiffTokenizer` accepts."""
    out: dict = {}
    if prefix + "fine_cells_sample_order" in record:
        out["fine_cells"] = record[prefix + "fine_cells_sample_order"].tolist()
    if prefix + "kept_index" in record:
        out["kept_index"] = record[prefix + "kept_index"].tolist()
    if prefix + "importance_used" in record:
        out["fills"] = record[prefix + "importance_used"]
    return out
