"""The scorer of fgaesq-lite: single mode on fixed views, pair mode on the windows where a pair differs most."""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from fgaesq.model.lite import FGAesQLite, LiteOutput, ViewSet, pair_viewsets, single_viewset
from fgaesq.model.registry import Preprocess
from fgaesq.scoring.device import pick_device
from fgaesq.scoring.images import decode_cached
from fgaesq.scoring.protocol import ImageRef


def _ref_key(ref: ImageRef) -> object:
    return ("img", id(ref)) if isinstance(ref, Image.Image) else ("path", str(Path(ref).resolve()))


def _file_key(ref: ImageRef) -> tuple | None:
    """(path, mtime, size) of a file, None for images given as objects (their descriptors are not kept)."""
    if isinstance(ref, Image.Image | bytes | bytearray | memoryview):
        return None
    try:
        st = os.stat(ref)
        return (str(Path(ref).resolve()), st.st_mtime_ns, st.st_size)
    except (OSError, TypeError, ValueError):
        return None


#: Single-mode descriptors kept per scorer (~23 KB each): `fgaesq rank` embeds every photo to group a folder,
#: then scores it; with the descriptor kept, the second time costs only the head.
DESCRIPTOR_CACHE = 2048


class LiteScorer:
    """fgaesq-lite as a Scorer: score (single mode), score_pairs (pair mode), embed (content features).

    ``pair_crops`` (default: as the model was trained, ``config.train_reference``) chooses whether pair mode
    takes the crops where the two images differ most; when False, pair mode scores each image as in single mode
    (docs/fgaesq-lite.md says which the shipped model uses and why). `views_used` / `pair_views_used` tell which
    crops were looked at (boxes in the decoded image's pixels: the original resolution for native views).
    """

    def __init__(
        self,
        model: FGAesQLite,
        name: str | None = None,
        *,
        device: str = "auto",
        batch_size: int = 8,
        pair_crops: bool | None = None,
        backend: str = "torch",
        int8: bool = False,
    ) -> None:
        if backend not in ("torch", "onnx"):
            raise ValueError(f"--backend must be one of torch, onnx, not {backend!r}")
        self.device = pick_device("cpu" if backend == "onnx" else device)
        self.model = model.eval().to(self.device)
        self.name = name or getattr(model, "source", None) or model.config.name
        self.batch_size = max(1, int(batch_size))
        self.pair_crops = model.config.train_reference if pair_crops is None else pair_crops
        self.preprocess = Preprocess(max_size=model.config.decode_size)
        self._descs: OrderedDict[tuple, torch.Tensor] = OrderedDict()
        self._session = None
        if backend == "onnx":
            from fgaesq.scoring.onnx_backend import exported_path, session
            from fgaesq.scoring.threads import available_cores

            self._session = session(exported_path(self.model, int8=int8), available_cores())
            self.name += " [onnx int8]" if int8 else " [onnx]"

    def _viewset(self, ref: ImageRef) -> ViewSet:
        return single_viewset(decode_cached(ref, self.preprocess), self.model.config)

    def _views(self, ref: ImageRef) -> torch.Tensor:
        return self._viewset(ref).views

    def views_used(self, images: Sequence[ImageRef]) -> list[ViewSet]:
        """Single-mode views of each image: `ViewSet.size` (decoded w, h) and `.boxes` (x0, y0, x1, y1) of the
        crops; the global view is the whole image."""
        return [self._viewset(im) for im in images]

    def pair_views_used(self, a: ImageRef, b: ImageRef) -> tuple[ViewSet, ViewSet]:
        """The views pair mode uses for (a, b): the windows where they differ most with ``pair_crops``, else each
        image's single-mode views."""
        if not self.pair_crops:
            return self._viewset(a), self._viewset(b)
        cfg = self.model.config
        return pair_viewsets(decode_cached(a, self.preprocess), decode_cached(b, self.preprocess), cfg)

    @torch.no_grad()
    def _run(self, views: list[torch.Tensor]) -> LiteOutput:
        outs = []
        for i in range(0, len(views), self.batch_size):
            batch = torch.stack(views[i : i + self.batch_size]).to(self.device)
            if self._session is not None:
                score, feats = self._session.run(["score", "features"], {"views": batch.numpy()})
                outs.append(LiteOutput(torch.from_numpy(feats), torch.zeros(len(score), 0), torch.from_numpy(score)))
            else:
                outs.append(self.model(batch))
        return LiteOutput(
            *(torch.cat([getattr(o, f) for o in outs]) for f in ("features", "logits", "score"))
        )

    @torch.no_grad()
    def _descriptors(self, images: Sequence[ImageRef]) -> torch.Tensor:
        """(n, desc_dim) single-mode descriptors, each file's computed once per scorer (while it is unchanged)."""
        keys = [_file_key(im) for im in images]
        todo = [i for i, k in enumerate(keys) if k is None or k not in self._descs]
        fresh: dict[int, torch.Tensor] = {}
        for s in range(0, len(todo), self.batch_size):
            idx = todo[s : s + self.batch_size]
            views = torch.stack([self._views(images[i]) for i in idx]).to(self.device)
            for i, d in zip(idx, self.model.describe(views), strict=True):
                fresh[i] = d
                if keys[i] is not None:
                    self._descs[keys[i]] = d
                    if len(self._descs) > DESCRIPTOR_CACHE:
                        self._descs.popitem(last=False)
        out = []
        for i, k in enumerate(keys):
            if i in fresh:
                out.append(fresh[i])
            else:
                self._descs.move_to_end(k)
                out.append(self._descs[k])
        return torch.stack(out)

    def score(self, images: Sequence[ImageRef]) -> np.ndarray:
        """Single-mode scores in [1, 10], shape (n,)."""
        if not images:
            return np.zeros(0)
        if self._session is not None:
            return self._run([self._views(im) for im in images]).score.cpu().double().numpy()
        with torch.no_grad():
            return self.model.forward_desc(self._descriptors(images)).score.cpu().double().numpy()

    def score_pairs(self, pairs: Sequence[tuple[ImageRef, ImageRef, str]]) -> np.ndarray:
        """Pair-mode scores, shape (n, 2): with ``pair_crops``, each image viewed where it differs from its partner."""
        if not pairs:
            return np.zeros((0, 2))
        cfg = self.model.config
        if not self.pair_crops:  # the reference does not change the views: score each distinct image once
            refs: dict[object, ImageRef] = {}
            for a, b, _ in pairs:
                for im in (a, b):
                    refs.setdefault(_ref_key(im), im)
            keys = list(refs)
            scores = dict(zip(keys, self.score([refs[k] for k in keys]), strict=True))
            return np.array([[scores[_ref_key(a)], scores[_ref_key(b)]] for a, b, _ in pairs], dtype=np.float64)
        views = []
        for a, b, _pair_id in pairs:
            va, vb = pair_viewsets(decode_cached(a, self.preprocess), decode_cached(b, self.preprocess), cfg)
            views += [va.views, vb.views]
        return self._run(views).score.cpu().double().numpy().reshape(-1, 2)

    def score_series(self, series: Sequence[tuple[Sequence[ImageRef], str]]) -> list[np.ndarray]:
        """Series mode: fgaesq-lite's pair views do not depend on the partner by default, so each image is
        scored once on its own views (n forwards for n images)."""
        flat = [im for refs, _ in series for im in refs]
        scores = self.score(flat) if flat else np.zeros(0)
        out, start = [], 0
        for refs, _ in series:
            out.append(scores[start : start + len(refs)])
            start += len(refs)
        return out

    @torch.no_grad()
    def embed(self, images: Sequence[ImageRef]) -> np.ndarray:
        """Content features for similarity grouping, shape (n, 1280): the ImageNet backbone's pooled final map
        of the global view (the quality-trained 512-d features would split a burst by its defects)."""
        c = self.model.config
        if not images:
            return np.zeros((0, 1280))
        return self._descriptors(images)[:, c.view_dim - 1280 : c.view_dim].cpu().double().numpy()
