"""How images become model inputs in training: the `InputBuilder` protocol and the DiffToken builder.

A builder turns one decoded image (and, for fine data, a reference image of the same series) into one sample,
and a list of samples into the batch given to `model.forward`. All randomness comes from the `rng` passed in
(the training generator), never from global RNGs. See docs/training.md, "Plugging a model into the training loop".
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch
from PIL import Image


@runtime_checkable
class InputBuilder(Protocol):
    """Builds model inputs: `build` one sample (reference=None → single mode), `collate` a batch."""

    def build(self, image: Image.Image, reference: Image.Image | None, rng: np.random.Generator) -> Any:
        """One sample for `image`, tokenized against `reference` (same series) or alone."""
        ...

    def collate(self, samples: list[Any]) -> Any:
        """The batch `model.forward` takes."""
        ...


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**63 - 1))


class DiffTokenInputs:
    """DiffToken inputs for FGAesQ: single mode for coarse items, pair mode against the reference for fine ones."""

    def __init__(self, model: torch.nn.Module, *, fine_rule: str = "release"):
        from fgaesq.model import make_tokenizer

        self.tokenizer = make_tokenizer(model, fine_rule=fine_rule)  # seq_len and compat from the model's config

    def build(self, image: Image.Image, reference: Image.Image | None, rng: np.random.Generator) -> Any:
        """Tokens of `image` (pair mode when a reference is given); seeds drawn from `rng`."""
        if reference is None:
            return self.tokenizer.single(image, seed=_seed(rng))
        return self.tokenizer.pair(image, reference, seed=_seed(rng))[0]

    def build_pair(self, a: Image.Image, b: Image.Image, rng: np.random.Generator) -> tuple[Any, Any]:
        """Both images of a pair tokenized against each other in one call (used when two images reference each other)."""
        return self.tokenizer.pair(a, b, seed=_seed(rng))

    def collate(self, samples: list[Any]) -> Any:
        """Stack `Tokens` into a `TokenBatch`."""
        from fgaesq.tokenize import collate_tokens

        return collate_tokens(samples)


def input_builder_for(model: torch.nn.Module, **options: Any) -> InputBuilder:
    """fgaesq-lite's descriptor builder, the model's own (`model.make_input_builder(**options)`), or DiffToken."""
    from fgaesq.model.lite import FGAesQLite

    if isinstance(model, FGAesQLite):
        import os

        from fgaesq.train.lite_inputs import LiteInputs

        cache = options.get("cache_dir") or os.environ.get("FGAESQ_LITE_CACHE")
        return LiteInputs(model.config, cache_dir=cache, use_reference=model.config.train_reference)
    make = getattr(model, "make_input_builder", None)
    if callable(make):
        return make(**options)
    if not hasattr(model, "pos_source"):
        raise TypeError(
            f"{type(model).__name__} has neither make_input_builder() nor pos_source: the training loop cannot "
            "build its inputs (see docs/training.md)"
        )
    return DiffTokenInputs(model, **options)
