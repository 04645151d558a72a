"""The one image decoder of fgaesq: scoring, ranking, training, refinement and the web apps all call `load_image`.

It applies the EXIF orientation, composites transparency on white, reduces 16-bit samples to 8 bits (the high
byte), converts palette, grey and CMYK images to RGB, limits the long side (JPEG draft decoding, then LANCZOS)
and guards against decompression bombs.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import pillow_heif
from PIL import Image, ImageFile, UnidentifiedImageError

from fgaesq.io.errors import ImageError

pillow_heif.register_heif_opener()
ImageFile.LOAD_TRUNCATED_IMAGES = False  # a truncated file is an error, never silently half-grey

#: Pillow format names we decode, and the file extensions we look for in folders.
SUPPORTED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "TIFF", "BMP", "HEIF"})
IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".tif", ".tiff", ".bmp", ".dib", ".heic", ".heif", ".hif"}
)
#: Image-like files found in folders but not decodable here: reported as unsupported rather than ignored.
UNSUPPORTED_EXTENSIONS = frozenset(
    {".gif", ".avif", ".jxl", ".psd", ".dng", ".cr2", ".cr3", ".nef", ".arw", ".orf", ".rw2", ".raf", ".pef", ".srw"}
)
#: Default decompression-bomb guard: images above this many pixels are refused (about 180 MP).
MAX_PIXELS = 180_000_000
DEFAULT_MAX_SIZE = 2048

_FIX_FORMAT = "convert it to JPEG, PNG, WebP, TIFF, BMP or HEIC"


def _target_size(width: int, height: int, max_size: int | None) -> tuple[int, int]:
    """Size after limiting the long side to max_size (unchanged when it already fits)."""
    if not max_size or max(width, height) <= max_size:
        return width, height
    s = max_size / max(width, height)
    return max(1, round(width * s)), max(1, round(height * s))


_TRANSPOSE = {
    2: (Image.Transpose.FLIP_LEFT_RIGHT,),
    3: (Image.Transpose.ROTATE_180,),
    4: (Image.Transpose.FLIP_TOP_BOTTOM,),
    5: (Image.Transpose.TRANSPOSE,),
    6: (Image.Transpose.ROTATE_270,),
    7: (Image.Transpose.TRANSVERSE,),
    8: (Image.Transpose.ROTATE_90,),
}


def _orientation(im: Image.Image) -> int:
    """EXIF orientation tag (1-8; 1 when absent or unreadable)."""
    try:
        value = int(im.getexif().get(0x0112, 1))
    except Exception:  # noqa: BLE001 - a broken EXIF block must not stop decoding
        return 1
    return value if value in range(1, 9) else 1


def _finish(img: Image.Image, max_size: int | None, orientation: int = 1) -> Image.Image:
    """Orientation, RGB conversion and the long-side limit on an already decoded image."""
    for op in _TRANSPOSE.get(orientation, ()):
        img = img.transpose(op)
    if img.mode in ("RGBA", "RGBa", "LA", "La", "PA") or "transparency" in img.info:
        rgba = img.convert("RGBA")
        bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(bg, rgba)
    elif img.mode in ("I;16", "I;16B", "I;16L", "I"):
        img = img.point(lambda v: v / 256).convert("L")
    img = img.convert("RGB")
    size = _target_size(*img.size, max_size)
    if size != img.size:
        img = img.resize(size, Image.Resampling.LANCZOS)
    if orientation != 1:  # now upright: a second load_image of this image must not rotate it again
        img.info.pop("exif", None)
        img.getexif().pop(0x0112, None)
    return img


#: What `load_image` accepts: a path, encoded bytes (a WebDataset sample, a Parquet cell), or a decoded image.
ImageSource = str | os.PathLike | bytes | bytearray | memoryview | Image.Image


def load_image(
    path: ImageSource,
    max_size: int | None = DEFAULT_MAX_SIZE,
    *,
    max_pixels: int = MAX_PIXELS,
    name: str | None = None,
) -> Image.Image:
    """Decode one photo (path, encoded bytes or PIL image) to upright RGB, long side <= max_size; raises ImageError.

    ``name`` labels encoded bytes in error messages (for example a shard member ``shard-0001.tar:0042.jpg``).
    """
    if isinstance(path, Image.Image):
        return _finish(path, max_size, _orientation(path))
    if isinstance(path, bytes | bytearray | memoryview):
        p = Path(name or "<bytes>")
        if len(path) == 0:
            raise ImageError(p, "empty image data (0 bytes)")
        im = _open(io.BytesIO(bytes(path)), p, max_pixels)
    else:
        p = Path(path)
        if not p.exists():
            raise ImageError(p, "file not found")
        if p.is_dir():
            raise ImageError(p, "is a folder, not an image file")
        if p.stat().st_size == 0:
            raise ImageError(p, "empty file (0 bytes); re-copy it from the camera or card")
        im = _open(p, p, max_pixels)
    return _decode(im, p, max_size, max_pixels)


def _open(fp: Path | io.BytesIO, p: Path, max_pixels: int) -> Image.Image:
    """Image.open with every failure turned into an ImageError naming p."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(fp)
    except Image.DecompressionBombError as e:
        raise ImageError(
            p, f"refused as a possible decompression bomb (over {max_pixels / 1e6:.0f} MP: {e}); downscale it first"
        ) from e
    except UnidentifiedImageError as e:
        suffix = p.suffix.lower()
        if suffix in UNSUPPORTED_EXTENSIONS:
            raise ImageError(p, f"unsupported format '{suffix}'; {_FIX_FORMAT}") from e
        raise ImageError(p, f"not an image or unreadable/corrupt header; {_FIX_FORMAT}") from e
    except OSError as e:
        raise ImageError(p, f"cannot open ({e})") from e


def _decode(im: Image.Image, p: Path, max_size: int | None, max_pixels: int) -> Image.Image:
    """Checks, draft decoding, load, orientation and RGB conversion of an opened image."""
    with im:
        fmt = im.format or "?"
        if fmt not in SUPPORTED_FORMATS:
            raise ImageError(p, f"unsupported format {fmt}; {_FIX_FORMAT}")
        w, h = im.size
        if w * h > max_pixels:
            raise ImageError(
                p,
                f"{w}x{h} = {w * h / 1e6:.0f} MP exceeds the {max_pixels / 1e6:.0f} MP limit (decompression-bomb "
                "guard); downscale it first",
            )
        if w == 0 or h == 0:
            raise ImageError(p, "image has zero width or height")
        if fmt in ("JPEG", "MPO") and max_size:
            # Let libjpeg decode at 1/2, 1/4 or 1/8 scale when that still covers the target size.
            tw, th = _target_size(w, h, max_size)
            try:
                im.draft("RGB", (tw, th))
            except (OSError, ValueError):
                pass
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                im.load()
        except (OSError, SyntaxError, ValueError, EOFError) as e:
            msg = str(e)
            if "truncated" in msg.lower():
                raise ImageError(p, f"truncated {fmt} file ({msg}); the copy is incomplete, re-copy it") from e
            raise ImageError(p, f"corrupt {fmt} data ({msg}); re-export or re-copy the file") from e
        orientation = _orientation(im)
        img = im.copy()
    try:
        return _finish(img, max_size, orientation)
    except (OSError, ValueError) as e:
        raise ImageError(p, f"cannot convert to RGB ({e})") from e


#: Formats and modes a browser shows with exactly the pixels `load_image` gives (at full size).
_BROWSER_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP"})
_BROWSER_MODES = frozenset({"RGB", "L", "P"})


def browser_safe(path: str | os.PathLike) -> bool:
    """True when a browser shows the file's own bytes with the pixels `load_image` gives (reads the header only).

    JPEG, PNG or WebP in RGB, grey or palette without transparency, upright. Anything else (alpha, 16 bit, CMYK,
    an EXIF rotation, TIFF, HEIC, or a file that cannot be opened) is to be decoded with `load_image` first.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                return (
                    im.format in _BROWSER_FORMATS
                    and im.mode in _BROWSER_MODES
                    and "transparency" not in im.info
                    and not any(";16" in str(t.args) for t in getattr(im, "tile", ()))  # 16-bit samples
                    and _orientation(im) == 1  # last: reading a PNG's EXIF decodes it
                )
    except Exception:  # noqa: BLE001 - unreadable here means "let load_image decode it and report why"
        return False
