"""fgaesq-lite's folded backbone computes what the EfficientNet-Lite0 package's modules compute, on real photos."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data

from fgaesq.model.lite import FGAesQLite, single_views
from fgaesq.model.lite.folded import _same_pad
from fgaesq.scoring import load_scorer


def _package_stats(model: FGAesQLite, views: torch.Tensor) -> torch.Tensor:
    """view_stats written with the package's own modules (BatchNorm, dynamic SAME padding, ReLU6)."""
    net, taps = model.backbone, set(model.config.taps)
    x = net._swish(net._bn0(net._conv_stem(views)))
    means, stds = [], []
    for i, block in enumerate(net._blocks):
        x = block(x, drop_connect_rate=None)
        if i in taps:
            means.append(x.mean((2, 3)))
            stds.append(x.std((2, 3), unbiased=False))
    head = net._swish(net._bn1(net._conv_head(x))).mean((2, 3))
    return torch.cat([*means, *stds, head], dim=1)


@pytest.fixture(scope="module")
def lite() -> FGAesQLite:
    return load_scorer("fgaesq-lite", device="cpu").model


PHOTOS = [data.astronaut(), data.coffee(), data.chelsea(), data.rocket()]


def test_folded_backbone_matches_the_package_modules_on_photos(lite):
    views = torch.cat([single_views(Image.fromarray(a), lite.config) for a in PHOTOS])
    with torch.inference_mode():
        want = _package_stats(lite, views)
        got = lite.view_stats(views)
    assert got.shape == want.shape == (len(views), lite.config.view_dim)
    err = (got - want).abs()
    assert float(err.max()) < 1e-4 * float(want.abs().max()), float(err.max())
    # the score through the head moves by float rounding only
    b = len(PHOTOS)
    desc_w = torch.cat([want.view(b, 4, -1)[:, 0], want.view(b, 4, -1)[:, 1:].mean(1)], 1)
    desc_g = torch.cat([got.view(b, 4, -1)[:, 0], got.view(b, 4, -1)[:, 1:].mean(1)], 1)
    with torch.no_grad():
        np.testing.assert_allclose(lite(desc_g).score.numpy(), lite(desc_w).score.numpy(), atol=2e-5)


@pytest.mark.parametrize("size", [224, 225, 97])
def test_folded_backbone_pads_like_tensorflow_same_at_any_size(lite, size):
    """Odd and even view sizes: asymmetric SAME padding of the stride-2 convolutions is kept."""
    img = Image.fromarray(data.coffee()).resize((size, size), Image.Resampling.BICUBIC)
    x = (torch.from_numpy(np.asarray(img, np.float32)).permute(2, 0, 1)[None] - 127.0) / 128.0
    with torch.inference_mode():
        torch.testing.assert_close(lite.view_stats(x), _package_stats(lite, x), atol=2e-4, rtol=1e-4)
    assert _same_pad(224, 3, 2) == (0, 1) and _same_pad(225, 5, 2) == (2, 2) and _same_pad(56, 5, 1) == (2, 2)


def test_folded_backbone_follows_changed_weights(lite):
    views = single_views(Image.fromarray(data.astronaut()), lite.config)
    model = FGAesQLite(lite.config)
    with torch.inference_mode():
        before = model.view_stats(views)
    with torch.no_grad():
        model.backbone._blocks[3]._bn2.running_mean.add_(0.5)  # modified in place: the fold is redone
    with torch.inference_mode():
        after = model.view_stats(views)
        torch.testing.assert_close(after, _package_stats(model, views), atol=2e-4, rtol=1e-4)
    assert float((after - before).abs().max()) > 1e-3
