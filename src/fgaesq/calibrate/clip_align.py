"""Text–image alignment of AI-generated series with open_clip (only when CLIP weights are available)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


class ClipAligner:
    """Cosine similarity between images and a prompt under an open_clip model."""

    def __init__(self, model, preprocess, tokenizer) -> None:
        self.model, self.preprocess, self.tokenizer = model.eval(), preprocess, tokenizer

    def similarity(self, images: Sequence[np.ndarray], prompt: str) -> list[float]:
        """Cosine similarity of each RGB uint8 image with the prompt."""
        import torch
        from PIL import Image

        with torch.no_grad():
            x = torch.stack([self.preprocess(Image.fromarray(im)) for im in images])
            fi = self.model.encode_image(x)
            ft = self.model.encode_text(self.tokenizer([prompt]))
            fi = fi / fi.norm(dim=-1, keepdim=True)
            ft = ft / ft.norm(dim=-1, keepdim=True)
            return [float(v) for v in (fi @ ft.T)[:, 0]]


def load_clip_aligner(model_name: str, weights: str | None) -> tuple[ClipAligner | None, str | None]:
    """Load an open_clip model from local weights; (None, notice) when none are given or loading fails."""
    has_schema = model_name.startswith(("local-dir:", "hf-hub:"))
    if weights is None and not has_schema:
        return None, (
            "text misalignment not checked: no CLIP weights given "
            "(pass --clip-weights FILE for --clip-model, or --clip-model local-dir:PATH)"
        )
    if weights is not None and not has_schema and not Path(weights).is_file():
        return None, f"text misalignment not checked: CLIP weights file {weights} not found"
    try:
        import open_clip

        model, _, preprocess = open_clip.create_model_and_transforms(
            model_name, pretrained=None if has_schema else weights
        )
        tokenizer = open_clip.get_tokenizer(model_name)
    except Exception as exc:  # any loader failure means: skip this check, say why
        return None, f"text misalignment not checked: CLIP model {model_name!r} could not be loaded ({exc})"
    return ClipAligner(model, preprocess, tokenizer), None
