"""fgaesq-lite's training inputs: image (+ reference) -> frozen-backbone descriptor, memoised (InputBuilder)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from fgaesq.io import ImageSource
from fgaesq.model.lite import FGAesQLite, LiteConfig, open_image, pair_views, single_views


def _pixels_key(img: Image.Image) -> bytes:
    import hashlib

    h = hashlib.sha1(np.asarray(img).tobytes())
    h.update(repr(img.size).encode())
    return h.digest()


class LiteInputs:
    """InputBuilder for the training loop: image (+ reference) → raw descriptor (desc_dim,), memoised.

    The backbone is frozen, so a descriptor is a pure function of the pixels (and of the reference's pixels in
    pair mode): caching it is exact, and after the first epoch training only runs the projection and head.
    """

    def __init__(
        self,
        config: LiteConfig | None = None,
        cache_dir: str | Path | None = None,
        use_reference: bool = True,
    ) -> None:
        self.config = config or LiteConfig()
        self.use_reference = use_reference
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self._net: FGAesQLite | None = None
        self._mem: dict[str, torch.Tensor] = {}

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_net": None, "_mem": {}}

    def _model(self) -> FGAesQLite:
        if self._net is None:
            self._net = FGAesQLite(self.config).eval()
        return self._net

    def key(self, image: ImageSource, reference: ImageSource | None = None) -> str:
        """Cache key of one (image, reference) input."""
        import hashlib

        c = self.config
        h = hashlib.sha1(repr((c.work_size, c.view_size, c.n_crops, c.taps)).encode())
        h.update(_pixels_key(open_image(image, c.work_size)))
        if reference is not None:
            h.update(b"ref" + _pixels_key(open_image(reference, c.work_size)))
        return h.hexdigest()

    def describe_many(
        self, items: Sequence[tuple[ImageSource, ImageSource | None]], batch: int = 8
    ) -> torch.Tensor:
        """Descriptors of many (image, reference-or-None) inputs, (n, desc_dim), using and filling the cache."""
        keys = [self.key(a, r) for a, r in items]
        todo = [i for i, k in enumerate(keys) if self._load(k) is None]
        for s in range(0, len(todo), batch):
            idx = todo[s : s + batch]
            views = []
            for i in idx:
                a, r = items[i]
                views.append(single_views(a, self.config) if r is None else pair_views(a, r, self.config)[0])
            desc = self._model().describe(torch.stack(views))
            for i, d in zip(idx, desc, strict=True):
                self._store(keys[i], d.clone())
        return torch.stack([self._load(k) for k in keys])

    def _load(self, key: str) -> torch.Tensor | None:
        if key in self._mem:
            return self._mem[key]
        if self.cache_dir is not None:
            f = self.cache_dir / f"{key}.npy"
            if f.is_file():
                self._mem[key] = torch.from_numpy(np.load(f))
                return self._mem[key]
        return None

    def _store(self, key: str, desc: torch.Tensor) -> None:
        self._mem[key] = desc
        if self.cache_dir is not None:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            np.save(self.cache_dir / f"{key}.npy", desc.numpy())

    def build(
        self, image: Image.Image, reference: Image.Image | None, rng: np.random.Generator
    ) -> torch.Tensor:
        """One training sample (no randomness is used: the views are deterministic)."""
        return self.describe_many([(image, reference if self.use_reference else None)])[0]

    def collate(self, samples: list[torch.Tensor]) -> torch.Tensor:
        """Stack descriptors into the (B, desc_dim) batch that FGAesQLite.forward accepts."""
        return torch.stack(samples)
