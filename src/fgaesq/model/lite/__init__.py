"""fgaesq-lite: the small offline starter model (EfficientNet-Lite0 ImageNet backbone + the FGAesQ head).

`config` holds its options, `network` the model, `views` how an image becomes its input views. Its scorer lives
in fgaesq.scoring and its training inputs in fgaesq.train; it is built and loaded through fgaesq.model's registry.
"""

from fgaesq.model.lite.config import ARCH, LiteConfig
from fgaesq.model.lite.network import BASE_PREFIX, FGAesQLite, LiteOutput, expected_score, imagenet_backbone
from fgaesq.model.lite.views import open_image, pair_boxes, pair_views, single_boxes, single_views

__all__ = [
    "ARCH",
    "BASE_PREFIX",
    "FGAesQLite",
    "LiteConfig",
    "LiteOutput",
    "expected_score",
    "imagenet_backbone",
    "open_image",
    "pair_boxes",
    "pair_views",
    "single_boxes",
    "single_views",
]
