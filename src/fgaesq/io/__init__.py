"""Reading photos: decoding with orientation and limits, capture times, folder scans, XMP sidecars."""

from fgaesq.io.errors import ImageError
from fgaesq.io.exif import CaptureTime, capture_time, exif_capture_time
from fgaesq.io.files import collect_paths, is_candidate, list_images, natural_key
from fgaesq.io.image import (
    DEFAULT_MAX_SIZE,
    IMAGE_EXTENSIONS,
    MAX_PIXELS,
    SUPPORTED_FORMATS,
    ImageSource,
    load_image,
)

__all__ = [
    "DEFAULT_MAX_SIZE",
    "IMAGE_EXTENSIONS",
    "MAX_PIXELS",
    "SUPPORTED_FORMATS",
    "CaptureTime",
    "ImageError",
    "ImageSource",
    "capture_time",
    "collect_paths",
    "exif_capture_time",
    "is_candidate",
    "list_images",
    "load_image",
    "natural_key",
]
