"""DiffToken: single-image and pair tokenization into fixed-length multiscale token sequences."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image

from fgaesq.io.resample import resize_array

from . import blocks_kernel, ssim_kernel
from .align import PairGeometry, n16, pair_geometry
from .pixels import CELL, as_rgb_array, downscale_cells, gather_blocks, image_seed, pad_or_crop_32, raw_cells
from .plan import (
    GRID_16,
    GRID_32,
    GRID_CLS,
    KIND_CLS,
    KIND_COARSE,
    KIND_FINE,
    KIND_PAD,
    Plan,
    multiscale_plan,
    native_plan,
)
from .posembed import PositionalTable
from .ssim import cell_importance
from .types import Tokens

N_FINE_CELLS = 14  # int(112 * 0.5 / 4)
CANDIDATE_FRACTION = 0.5
ALIGNMENTS = ("width", "height")
FINE_RULES = ("release", "paper")
SERIES_PARTNERS = 8  # series mode: partners per image beyond which the nearest in series order are taken


def pair_seed(pair_id: str) -> int:
    """The release's pair seed: int(MD5 hex digest of the UTF-8 id, 16) mod 10000."""
    return int(hashlib.md5(pair_id.encode("utf-8")).hexdigest(), 16) % 10000


def candidates_from(importance_used: np.ndarray) -> np.ndarray:
    """Cells ranked by importance, descending, stable (ties keep ascending index); top max(1, N // 2)."""
    flat = np.asarray(importance_used, dtype=np.float64).ravel()
    k = max(1, int(flat.size * CANDIDATE_FRACTION))
    return np.argsort(-flat, kind="stable")[:k]


def _pixels_md5(arr: np.ndarray) -> str:
    return hashlib.md5(np.ascontiguousarray(arr).tobytes()).hexdigest()


class DiffTokenizer:
    """Tokenizes images into `seq_len` slots (CLS + tokens + padding) the way DiffToken does.

    pos_source: the model's (1 + g*g, D) positional table (CLS row + g x g grid), interpolated per grid.
    compat=True reproduces the released code's quirks (fine positional order, dropping that does not protect
    fine tokens); compat=False gives fine tokens their own positions and drops coarse tokens only.
    fine_rule='paper' (compat=False only) makes every candidate cell fine, as far as the budget allows.
    device: where pair-mode SSIM runs ('cpu', 'cuda', ...). Tokens are always returned on the CPU.
    hash_pixels: record the MD5 of each pair image's final pixels in `info` (provenance; ~5 ms per 3 MP image).
    """

    def __init__(
        self,
        pos_source: torch.Tensor,
        *,
        seq_len: int = 512,
        compat: bool = True,
        n_fine: int = N_FINE_CELLS,
        fine_rule: str = "release",
        device: torch.device | str = "cpu",
        hash_pixels: bool = True,
    ):
        if fine_rule not in FINE_RULES:
            raise ValueError(f"fine_rule must be one of {FINE_RULES}, got {fine_rule!r}")
        if fine_rule == "paper" and compat:
            raise ValueError("fine_rule='paper' needs compat=False (the release only knows 14 fine cells)")
        if seq_len < 4 * n_fine + 2:
            raise ValueError(f"seq_len {seq_len} is too short for {n_fine} fine cells")
        self.table = PositionalTable(pos_source)
        self.seq_len = seq_len
        self.compat = compat
        self.n_fine = n_fine
        self.fine_rule = fine_rule
        self.device = torch.device(device)
        self.hash_pixels = hash_pixels

    # ------------------------------------------------------------------ single mode
    def single(
        self,
        image: Image.Image | np.ndarray,
        *,
        seed: int | None = None,
        fine_cells: Sequence[int] | None = None,
        kept_index: Sequence[int] | None = None,
    ) -> Tokens:
        """Tokenize one image (no reference). Random decisions draw from `seed` (default: from the pixels)."""
        arr = as_rgb_array(image)
        if seed is None:
            seed = image_seed(arr)
        rng = random.Random(seed)
        h, w = arr.shape[:2]
        info: dict = {"mode": "single", "seed": seed, "input_hw": (h, w)}
        if n16(w, h) <= self.seq_len:
            return self._native(arr, rng, kept_index, info)
        hp, wp, decision = pad_or_crop_32(h, w)
        rows, cols = hp // CELL, wp // CELL
        n = rows * cols
        sample = rng.sample(range(n), min(self.n_fine, n))
        if fine_cells is not None:
            sample = [int(c) for c in fine_cells]
        plan = multiscale_plan(rows, cols, np.asarray(sample), compat=self.compat)
        removed = self._drop_draws(rng, plan, protected=None)
        info.update(
            path="multiscale", pad_or_crop=decision, work_hw=(hp, wp), grid32=(rows, cols), grid16=(2 * rows, 2 * cols)
        )
        return self._finish(arr, plan, sample, removed, kept_index, info)

    def _native(
        self, arr: np.ndarray, rng: random.Random, kept_index: Sequence[int] | None, info: dict
    ) -> Tokens:
        h, w = arr.shape[:2]
        plan, grid = native_plan(h, w)
        removed = None
        if len(plan) > self.seq_len:  # n16 == seq_len: one random non-CLS token goes
            removed = rng.sample(range(1, len(plan)), len(plan) - self.seq_len)
        info.update(path="native", grid16=grid, work_hw=(16 * grid[0], 16 * grid[1]))
        return self._finish(arr, plan, [], removed, kept_index, info)

    # ------------------------------------------------------------------ pair mode
    def pair(
        self,
        img1: Image.Image | np.ndarray,
        img2: Image.Image | np.ndarray,
        *,
        pair_id: str | None = None,
        seed: int | None = None,
        alignment: str | None = None,
        fills: tuple[np.ndarray | None, np.ndarray | None] | None = None,
        fine_cells: tuple[Sequence[int] | None, Sequence[int] | None] | None = None,
        kept_index: tuple[Sequence[int] | None, Sequence[int] | None] | None = None,
    ) -> tuple[Tokens, Tokens]:
        """Tokenize two images of one series against each other (alignment, upscaling, 1 - SSIM per cell).

        pair_id gives the seed (release rule); without it the seed comes from both images' pixels.
        Forced decisions (replay): alignment; fills = per image the values for the cells that get random
        importance (an (R, C) or flat array, e.g. a recorded `importance_used`); fine_cells and kept_index per image.
        """
        arrs = [as_rgb_array(img1), as_rgb_array(img2)]
        if seed is None:
            if pair_id is None:
                pair_id = f"{image_seed(arrs[0]):08x}_{image_seed(arrs[1]):08x}"
            seed = pair_seed(pair_id)
        rng = random.Random(seed)
        drawn = rng.choice(ALIGNMENTS)
        align_to = drawn if alignment is None else alignment
        lazy = [_LazyImage(a) for a in arrs]
        f1, f2, geo = pair_geometry(lazy[0], lazy[1], align_to, self.seq_len)
        finals = [f1.arr, f2.arr]
        work = [pad_or_crop_32(a.shape[0], a.shape[1]) for a in finals]
        scores = self._overlap_importance(finals, work)
        overlap_rows = min(wk[0] for wk in work) // CELL
        fills = fills or (None, None)
        fine_cells = fine_cells or (None, None)
        kept_index = kept_index or (None, None)
        out = []
        for k in range(2):
            out.append(
                self._pair_image(
                    finals[k], work[k], scores, overlap_rows, rng, fills[k], fine_cells[k], kept_index[k],
                    info={"mode": "pair", "pair_id": pair_id, "seed": seed, "image": k + 1, "alignment": align_to,
                          "alignment_drawn": drawn, "geometry": _geo_dict(geo), "input_hw": finals[k].shape[:2],
                          "final_pixels_md5": _pixels_md5(finals[k]) if self.hash_pixels else None},
                )
            )
        return out[0], out[1]

    # ------------------------------------------------------------------ series mode
    def series(
        self,
        images: Sequence[Image.Image | np.ndarray],
        *,
        series_id: str | None = None,
        partners: Sequence[Sequence[int]] | None = None,
        reduce: str = "mean",
        max_partners: int = SERIES_PARTNERS,
    ) -> list[Tokens]:
        """Tokenize each image of a series once, against its partners (default: every other member, or the
        `max_partners` nearest in series order when the series is longer).

        Each image gets the pair-mode geometry and budget, with per-cell importance = the mean (or max) of
        1 - SSIM against its partners, over the partners whose pair geometry gives it the same final size.
        One sequence per image: n forwards for n images instead of 2 per pair. series_id seeds the draws.
        """
        if reduce not in ("mean", "max"):
            raise ValueError(f"reduce must be 'mean' or 'max', got {reduce!r}")
        arrs = [as_rgb_array(im) for im in images]
        n = len(arrs)
        if n == 0:
            return []
        if series_id is None:
            series_id = "_".join(f"{image_seed(a):08x}" for a in arrs)
        seed = pair_seed(series_id)
        rng = random.Random(seed)
        align_to = rng.choice(ALIGNMENTS)
        if partners is None:
            partners = [sorted((j for j in range(n) if j != i), key=lambda j, i=i: (abs(j - i), j))[:max_partners]
                        for i in range(n)]
        lazy = [_LazyImage(a) for a in arrs]
        finals: dict[int, np.ndarray] = {}
        acc: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        used: dict[int, list[int]] = {i: [] for i in range(n)}
        for i, j in sorted({(min(a, b), max(a, b)) for a in range(n) for b in partners[a] if a != b}):
            f_i, f_j, _ = pair_geometry(lazy[i], lazy[j], align_to, self.seq_len)
            pair_finals = [f_i.arr, f_j.arr]
            work = [pad_or_crop_32(a.shape[0], a.shape[1]) for a in pair_finals]
            scores = self._overlap_importance(pair_finals, work)
            for k, other, arr, wk in ((i, j, pair_finals[0], work[0]), (j, i, pair_finals[1], work[1])):
                finals.setdefault(k, arr)
                if finals[k].shape != arr.shape:
                    continue  # another final size for this image: its cells do not line up with the first
                if k not in acc:
                    cells = (wk[0] // CELL) * (wk[1] // CELL)
                    acc[k] = (np.zeros(cells), np.zeros(cells))
                total, count = acc[k]
                m = min(scores.size, total.size)
                if reduce == "mean":
                    total[:m] += scores[:m]
                else:
                    total[:m] = np.maximum(total[:m], scores[:m])
                count[:m] += 1
                used[k].append(other)
        out = []
        for i in range(n):
            arr = finals.get(i, arrs[i])
            work = pad_or_crop_32(arr.shape[0], arr.shape[1])
            cols = work[1] // CELL
            if i in acc:
                total, count = acc[i]
                covered = int(np.count_nonzero(count))
                imp = total[:covered] / (count[:covered] if reduce == "mean" else 1.0)
            else:
                covered, imp = 0, np.zeros(0)
            info = {"mode": "series", "series_id": series_id, "seed": seed, "image": i + 1, "alignment": align_to,
                    "partners": used[i], "reduce": reduce, "input_hw": arr.shape[:2]}
            out.append(self._pair_image(arr, work, imp, covered // cols, rng, None, None, None, info))
        return out

    def _overlap_importance(self, finals: list[np.ndarray], work: list[tuple[int, int, str]]) -> np.ndarray:
        """1 - SSIM for the raster-paired cells of the shared top rows (list truncated to the shorter one).

        Compat mode takes the exact kernel (the release's float32 bits); compat off the integer fast path.
        """
        rows = min(wk[0] for wk in work) // CELL
        if self.device.type == "cpu" and ssim_kernel.available():
            cols = [wk[1] // CELL for wk in work]
            ssim = ssim_kernel.image_cell_ssim(finals[0], finals[1], cols[0], cols[1], rows * min(cols), exact=self.compat)
            return np.clip(1.0 - ssim, 0.0, 1.0)
        c1 = raw_cells(finals[0], work[0][:2], rows, self.device)
        c2 = raw_cells(finals[1], work[1][:2], rows, self.device)
        m = min(c1.shape[0], c2.shape[0])
        return cell_importance(c1[:m], c2[:m]).cpu().numpy()

    def _pair_image(
        self,
        arr: np.ndarray,
        work: tuple[int, int, str],
        scores: np.ndarray,
        overlap_rows: int,
        rng: random.Random,
        fill: np.ndarray | None,
        fine_forced: Sequence[int] | None,
        kept_forced: Sequence[int] | None,
        info: dict,
    ) -> Tokens:
        """One image of a pair: importance list (+ random fills), candidates, fine cells, dropping, tokens."""
        hp, wp, decision = work
        rows, cols = hp // CELL, wp // CELL
        n = rows * cols
        n_unique = max(0, rows - overlap_rows) * cols
        raw_len = scores.size + n_unique
        imp = np.full(n, np.nan)
        imp[: min(scores.size, n)] = scores[:n]
        missing = list(range(raw_len, n))  # list shorter than N: extended
        unique = [p for p in range(scores.size, min(raw_len, n))]
        used = imp.copy()
        fill_flat = None if fill is None else np.asarray(fill, dtype=np.float64).ravel()
        if fill_flat is not None and fill_flat.size != n:
            raise ValueError(f"fills for image {info['image']} must hold {n} values ({rows} x {cols} cells), "
                             f"got {fill_flat.size}")
        for p in missing + unique:
            v = rng.random()
            used[p] = v if fill_flat is None else fill_flat[p]
        cands = candidates_from(used)
        if self.fine_rule == "paper":
            k = min(cands.size, (self.seq_len - 1) // 4)
            sample = [int(c) for c in cands[:k]]
        else:
            sample = rng.sample([int(c) for c in cands], min(self.n_fine, cands.size))
        if fine_forced is not None:
            sample = [int(c) for c in fine_forced]
        plan = multiscale_plan(rows, cols, np.asarray(sample), compat=self.compat)
        if len(plan) > self.seq_len and self.compat:
            for _ in range(min(n_unique, max(0, len(plan) - 1 - scores.size))):
                rng.random()  # the release draws fillers for unique rows here; their values are unused
        removed = self._drop_draws(rng, plan, protected={c + 1 for c in sample})
        info.update(
            path="multiscale", pad_or_crop=decision, work_hw=(hp, wp), grid32=(rows, cols), grid16=(2 * rows, 2 * cols),
            importance=imp.reshape(rows, cols), importance_used=used.reshape(rows, cols), candidates=cands,
            random_fill_cells=len(missing) + len(unique), unique_cells=n_unique,
        )
        return self._finish(arr, plan, sample, removed, kept_forced, info)

    # ------------------------------------------------------------------ shared
    def _drop_draws(self, rng: random.Random, plan: Plan, protected: set[int] | None) -> list[int] | None:
        """Slots to remove when the plan is longer than seq_len (removal order as drawn)."""
        extra = len(plan) - self.seq_len
        if extra <= 0:
            return None
        if not self.compat:  # fine tokens are protected: drop among coarse (or native) tokens only
            pool = np.nonzero((plan.kind != KIND_CLS) & (plan.kind != KIND_FINE))[0].tolist()
            if len(pool) - extra < extra:  # draw the fewer survivors instead: the same uniform subset law
                kept = set(rng.sample(pool, len(pool) - extra))
                return [i for i in pool if i not in kept]
            return rng.sample(pool, extra)
        if protected is None:
            return rng.sample(range(1, len(plan)), extra)
        pool = [i for i in range(1, len(plan)) if i not in protected]
        return rng.sample(pool, extra)

    def _finish(
        self,
        arr: np.ndarray,
        plan: Plan,
        sample: Sequence[int],
        removed: Sequence[int] | None,
        kept_forced: Sequence[int] | None,
        info: dict,
    ) -> Tokens:
        """Fit the plan to seq_len (forced kept slots, drawn removals or padding), read pixels, record provenance."""
        full_len = len(plan)
        if kept_forced is not None:
            kept = np.asarray(kept_forced, dtype=np.int64)
            if kept.size == 0 or kept.size > self.seq_len or kept[0] != 0 or np.any(np.diff(kept) <= 0) or kept[-1] >= full_len:
                raise ValueError(f"kept_index must be ascending slots 0..{full_len - 1} starting with 0, "
                                 f"at most {self.seq_len} of them")
        elif removed is not None:
            keep = np.ones(full_len, dtype=bool)
            keep[np.asarray(removed, dtype=np.int64)] = False
            kept = np.nonzero(keep)[0]
        else:
            kept = None
        fitted = (plan if kept is None else plan.take(kept)).padded(self.seq_len)
        tokens = self._materialise(arr, fitted, info)
        info.update(
            pre_drop_len=full_len,
            fine_cells=sorted(set(int(c) for c in sample)),
            fine_cells_sample_order=[int(c) for c in sample],
            kept_index=kept,
            removed_index=None if removed is None else np.asarray(removed, dtype=np.int64),
            tok_kind=fitted.kind, tok_y=fitted.y, tok_x=fitted.x, tok_cell=fitted.cell, pos_grid=fitted.pos_grid,
            pos_index=fitted.pos_index, true_pos_index=fitted.true_pos_index,
            compat=self.compat,
        )
        return tokens

    def _materialise(self, arr: np.ndarray, plan: Plan, info: dict) -> Tokens:
        """Read, normalise and (coarse) filter the pixels of every planned slot; look up positional rows."""
        length = len(plan)
        patches = torch.zeros(length, 3, 16, 16, dtype=torch.float32)
        pos = torch.zeros(length, self.table.dim, dtype=torch.float32)
        kind = plan.kind
        px16 = np.nonzero((kind != KIND_CLS) & (kind != KIND_PAD) & (kind != KIND_COARSE))[0]
        fast = blocks_kernel.available()
        if px16.size:
            ys, xs = plan.y[px16], plan.x[px16]
            patches[px16] = blocks_kernel.fine_blocks(arr, ys, xs) if fast else gather_blocks(arr, ys, xs, 16)
        coarse = np.nonzero(kind == KIND_COARSE)[0]
        if coarse.size:
            ys, xs = plan.y[coarse], plan.x[coarse]
            patches[coarse] = (
                blocks_kernel.coarse_blocks(arr, ys, xs) if fast else downscale_cells(gather_blocks(arr, ys, xs, 32))
            )
        g16 = info["grid16"]
        sel = np.nonzero(plan.pos_grid == GRID_16)[0]
        if sel.size:
            pos[sel] = self.table.rows(g16[0], g16[1], plan.pos_index[sel])
        sel = np.nonzero(plan.pos_grid == GRID_32)[0]
        if sel.size:
            g32 = info["grid32"]
            pos[sel] = self.table.rows(g32[0], g32[1], plan.pos_index[sel])
        pos[torch.from_numpy(plan.pos_grid == GRID_CLS)] = self.table.cls
        scale = torch.from_numpy((kind == KIND_FINE).astype(np.int64))
        pad = torch.from_numpy(kind == KIND_PAD)
        return Tokens(patches=patches, pos=pos, scale=scale, pad=pad, info=info)


class _LazyImage:
    """An RGB array that looks like a PIL image to the pair geometry; converted to PIL only when resized.

    Resized results are cached in a dict shared by everything derived from one source image, so a series
    aligns and upscales each image once per distinct size chain, not once per pair.
    """

    def __init__(self, arr: np.ndarray, cache: dict | None = None, key: tuple = ()) -> None:
        self.arr = arr
        self.height, self.width = arr.shape[:2]
        self.size = (self.width, self.height)
        self._cache = {} if cache is None else cache
        self._key = key

    def resize(self, size: tuple[int, int], resample: int) -> _LazyImage:
        """PIL's resize of the array (cached)."""
        key = (*self._key, (tuple(size), resample))
        if key not in self._cache:
            if resample == Image.Resampling.LANCZOS:  # the same pixels as PIL's, compiled for large images
                arr = resize_array(self.arr, tuple(size))
            else:
                arr = np.asarray(Image.fromarray(self.arr).resize(size, resample))
            self._cache[key] = _LazyImage(arr, self._cache, key)
        return self._cache[key]


def _geo_dict(geo: PairGeometry) -> dict:
    return {
        "alignment": geo.alignment,
        "input_wh": geo.input_wh,
        "aligned_wh": geo.aligned_wh,
        "upscaled_wh": geo.upscaled_wh,
        "final_wh": geo.final_wh,
        "common_scale_branch": geo.common_scale_branch,
    }


def fine_tokens_kept(tokens: Tokens) -> int:
    """Number of fine tokens that survived the budget."""
    return int(tokens.scale.sum())


__all__ = ["DiffTokenizer", "pair_seed", "candidates_from", "fine_tokens_kept"]
