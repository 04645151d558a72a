"""fgaesq-lite's training inputs: image (+ reference) -> frozen-backbone descriptor, memoised (InputBuilder)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Decoded:
    """What `LiteInputs.loader` returns for a file it has decoded before: its pixel digest, not its pixels.

    The training loop passes it back to `LiteInputs.build`, which needs only the digest when the descriptor is
    cached (a 12 MP file is then not decoded again every epoch) and decodes ``path`` otherwise."""

    path: str
    digest: bytes


ImageLike = ImageSource | Decoded


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
        self._digests: dict[tuple, bytes] = {}  # (path, mtime, size, max_size) -> pixel digest

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_net": None, "_mem": {}, "_digests": {}}

    def loader(self, ref: ImageSource, max_size: int | None) -> Image.Image | Decoded:
        """The training loop's decoder (`TrainItems`/`ValItems` use it when the builder has one): decodes a file
        the first time (remembering its pixel digest), afterwards returns a `Decoded` stand-in. The views are
        deterministic (no augmentation), so nothing but the pixels decides a descriptor."""
        from fgaesq.io import load_image

        if isinstance(ref, str | Path):
            import os

            st = os.stat(ref)
            pk = (str(ref), st.st_mtime_ns, st.st_size, max_size)
            if pk in self._digests:
                return Decoded(str(ref), self._digests[pk])
            img = load_image(ref, max_size)
            self._digests[pk] = _pixels_key(self._open(img))
            return img
        return load_image(ref, max_size)

    def _model(self) -> FGAesQLite:
        if self._net is None:
            self._net = FGAesQLite(self.config).eval()
        return self._net

    def key(self, image: ImageLike, reference: ImageLike | None = None) -> str:
        """Cache key of one (image, reference) input."""
        return self._key(self._digest(image), None if reference is None else self._digest(reference))

    def _open(self, image: ImageLike) -> Image.Image:
        if isinstance(image, Decoded):
            image = image.path
        return open_image(image, self.config.decode_size)

    def _digest(self, image: ImageLike) -> bytes:
        return image.digest if isinstance(image, Decoded) else _pixels_key(self._open(image))

    def _key(self, image: bytes, reference: bytes | None) -> str:
        import hashlib

        c = self.config
        views = (c.work_size, c.view_size, c.n_crops, c.taps)
        if c.native or c.crop_select != "quadrants":  # keys of the first lite's views stay as they were
            views = (*views, c.native, c.crop_select)
        if c.technical:  # grid-aligned crops + technical block: a new descriptor
            views = (*views, "technical", c.technical)
        h = hashlib.sha1(repr(views).encode())
        h.update(image)
        if reference is not None:
            h.update(b"ref" + reference)
        return h.hexdigest()

    def describe_many(
        self, items: Sequence[tuple[ImageLike, ImageLike | None]], batch: int = 8
    ) -> torch.Tensor:
        """Descriptors of many (image, reference-or-None) inputs, (n, desc_dim), using and filling the cache.

        Each image is decoded at most once (its pixels make the key and, when not cached, its views)."""
        keys: list[str] = []
        todo: dict[int, tuple[Image.Image, Image.Image | None]] = {}
        pending: set[str] = set()
        for a, r in items:
            if isinstance(a, Decoded) and (r is None or isinstance(r, Decoded)):
                k = self._key(a.digest, None if r is None else r.digest)
                if self._load(k) is not None:
                    keys.append(k)
                    continue
            ia, ir = self._open(a), None if r is None else self._open(r)
            k = self._key(_pixels_key(ia), None if ir is None else _pixels_key(ir))
            keys.append(k)
            if self._load(k) is None and k not in pending:
                pending.add(k)
                todo[len(keys) - 1] = (ia, ir)
        idx_all = list(todo)
        for s in range(0, len(idx_all), batch):
            idx = idx_all[s : s + batch]
            views = []
            for i in idx:
                a, r = todo.pop(i)
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
        self, image: Image.Image | Decoded, reference: Image.Image | Decoded | None, rng: np.random.Generator
    ) -> torch.Tensor:
        """One training sample (no randomness is used: the views are deterministic)."""
        return self.describe_many([(image, reference if self.use_reference else None)])[0]

    def collate(self, samples: list[torch.Tensor]) -> torch.Tensor:
        """Stack descriptors into the (B, desc_dim) batch that FGAesQLite.forward accepts."""
        return torch.stack(samples)
