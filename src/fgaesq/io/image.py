"""The one image decoder of fgaesq: scoring, ranking, training, refinement and the web apps all call `load_image`.

It applies the EXIF orientation, composites transparency on white, reduces 16-bit samples to 8 bits (the high
byte), converts palette, grey and CMYK images to RGB, limits the long side (JPEG draft decoding, then LANCZOS)
and guards against decompression bombs.
"""

from __future__ import annotations

import io
import logging
import os
import stat
import warnings
from pathlib import Path

import numpy as np
import pillow_heif
from PIL import Image, ImageFile, UnidentifiedImageError

from fgaesq.io.errors import ImageError
from fgaesq.io.resample import resize_lanczos

pillow_heif.register_heif_opener()
ImageFile.LOAD_TRUNCATED_IMAGES = False  # a truncated file is an error, never silently half-grey


def _silence_libtiff() -> None:
    """Stop libtiff printing its own warnings/errors on stderr (failures still reach us as Pillow errors).

    Pillow's libtiff reports through its return codes, which `load_image` turns into one ImageError line; the
    library's default handlers would also print raw lines such as "ZIPDecode: Decoding error ..." per bad file.
    """
    import ctypes

    try:
        from PIL import _imaging  # noqa: F401 - loads the libtiff Pillow links against

        with open("/proc/self/maps", encoding="utf-8", errors="replace") as fh:
            libs = {ln.split()[-1] for ln in fh if "libtiff" in ln.rsplit("/", 1)[-1] and ".so" in ln}
        for lib in libs:
            handle = ctypes.CDLL(lib)
            handle.TIFFSetWarningHandler(None)
            handle.TIFFSetErrorHandler(None)
    except (OSError, AttributeError, ImportError):  # not Linux, or a libtiff without these symbols: keep defaults
        pass


_silence_libtiff()
# Pillow logs some refusals ("More samples per pixel than can be decoded") before raising; the raise becomes our
# one-line ImageError, so without a handler of its own Python's last-resort handler would print a second line.
logging.getLogger("PIL").addHandler(logging.NullHandler())

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
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Corrupt EXIF data" is handled: orientation 1
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
    if img.mode != "RGB":
        img = img.convert("RGB")
    size = _target_size(*img.size, max_size)
    if size != img.size:
        img = resize_lanczos(img, size)  # Pillow's LANCZOS pixels, in compiled kernels for large photos
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
        out = _finish(path, max_size, _orientation(path))
        return path.copy() if out is path else out  # never the caller's own object
    if isinstance(path, bytes | bytearray | memoryview):
        p = Path(name or "<bytes>")
        if len(path) == 0:
            raise ImageError(p, "empty image data (0 bytes)")
        im = _open(io.BytesIO(bytes(path)), p, max_pixels)
    else:
        p = Path(path)
        _check_file(p)
        im = _open(p, p, max_pixels)
    return _decode(im, p, max_size, max_pixels)


def _check_file(p: Path) -> None:
    """A regular, non-empty file (or a link to one); anything else raises ImageError saying what it is."""
    try:
        st = p.stat()
    except FileNotFoundError as e:
        if os.path.islink(p):
            raise ImageError(p, "dangling symbolic link (its target does not exist); fix or remove the link") from e
        raise ImageError(p, "file not found") from e
    except OSError as e:
        if os.path.islink(p):
            raise ImageError(p, f"unusable symbolic link ({e.strerror}); fix or remove the link") from e
        raise ImageError(p, f"cannot access ({e.strerror or e}); check its permissions") from e
    if stat.S_ISDIR(st.st_mode):
        raise ImageError(p, "is a folder, not an image file")
    if not stat.S_ISREG(st.st_mode):
        kind = ("a named pipe (FIFO)" if stat.S_ISFIFO(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode)
                else "a device file" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else "a special file")
        raise ImageError(p, f"is {kind}, not an image file")
    if st.st_size == 0:
        raise ImageError(p, "empty file (0 bytes); re-copy it from the camera or card")
    if not os.access(p, os.R_OK):
        raise ImageError(p, "permission denied; make it readable (chmod +r)")


def _open(fp: Path | io.BytesIO, p: Path, max_pixels: int) -> Image.Image:
    """Image.open with every failure turned into an ImageError naming p."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # Pillow's own guard fires only far above ours, so our exact limit and message apply (see _decode).
            Image.MAX_IMAGE_PIXELS = max(max_pixels, Image.MAX_IMAGE_PIXELS or 0)
            return Image.open(fp)
    except Image.DecompressionBombError as e:
        raise ImageError(
            p, f"refused as a possible decompression bomb (over {max_pixels / 1e6:.1f} MP: {e}); downscale it first"
        ) from e
    except UnidentifiedImageError as e:
        suffix = p.suffix.lower()
        if suffix in UNSUPPORTED_EXTENSIONS:
            raise ImageError(p, f"unsupported format '{suffix}'; {_FIX_FORMAT}") from e
        raise ImageError(p, f"not an image or unreadable/corrupt header; {_FIX_FORMAT}") from e
    except OSError as e:
        raise ImageError(p, f"cannot open ({e})") from e
    except Exception as e:  # noqa: BLE001 - a plugin failing on a hostile header is still just a bad file
        raise ImageError(p, f"not an image or unreadable/corrupt header ({type(e).__name__}); {_FIX_FORMAT}") from e


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
                f"{w}x{h} = {w * h / 1e6:.1f} MP exceeds the {max_pixels / 1e6:.0f} MP limit (decompression-bomb "
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
                warnings.simplefilter("ignore")
                im.load()
        except (OSError, SyntaxError, ValueError, EOFError) as e:
            msg = str(e)[:200]
            if "truncated" in msg.lower():
                raise ImageError(p, f"truncated {fmt} file ({msg}); the copy is incomplete, re-copy it") from e
            raise ImageError(p, f"corrupt {fmt} data ({msg}); re-export or re-copy the file") from e
        except MemoryError as e:
            raise ImageError(p, f"{fmt} data needs more memory than is available; downscale it first") from e
        except Exception as e:  # noqa: BLE001 - any decoder failure on hostile data is a bad file, not a crash
            raise ImageError(p, f"corrupt {fmt} data ({type(e).__name__}: {str(e)[:200]}); re-export or re-copy") from e
        orientation = _orientation(im)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = _finish(im, max_size, orientation)  # a new image wherever anything changes, else `im`:
                if out is im and getattr(im, "map", None) is not None:  # loaded pixels outlive the file, except
                    out = im.copy()  # memory-mapped ones (raw BMP/TIFF/PPM): those are copied off the file
        except (OSError, ValueError, TypeError, MemoryError) as e:
            raise ImageError(p, f"cannot convert to RGB ({type(e).__name__}: {str(e)[:200]})") from e
    if fmt in ("JPEG", "MPO"):
        missing = _missing_fraction(out)
        if missing >= MISSING_LIMIT:
            raise ImageError(
                p, f"truncated or damaged JPEG: the bottom {missing:.0%} of the picture is missing (decodes as flat "
                "grey); re-copy the file"
            )
    return out


#: A JPEG whose bottom rows decode as this fraction (or more) of flat grey is refused as mostly missing.
MISSING_LIMIT = 0.2


def _flat_rows(a: np.ndarray) -> np.ndarray:
    """Per row of an (h, w, 3) uint8 array: True where the row is flat mid-grey (libjpeg's fill for absent data)."""
    lo, hi = a.min(axis=(1, 2)), a.max(axis=(1, 2))
    return (hi.astype(int) - lo <= 2) & (lo >= 120) & (hi <= 136)


#: Rows read per step when looking for missing JPEG data from the bottom up.
_STRIP = 64


def _missing_fraction(img: Image.Image) -> float:
    """Fraction of the height, from the bottom, that is flat mid-grey: what libjpeg fills in for absent data.

    Reads the picture from the bottom up, a strip at a time, so a whole photo costs one row's check.
    """
    rgb = img if img.mode == "RGB" else img.convert("RGB")
    w, h = rgb.size
    if h < 8:
        return 0.0
    bottom = h
    while bottom > 0:
        top = max(0, bottom - _STRIP)
        flat = _flat_rows(np.asarray(rgb.crop((0, top, w, bottom))))
        good = np.flatnonzero(~flat)
        if good.size:
            return (h - (top + int(good[-1]) + 1)) / h
        bottom = top
    return 1.0


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
            warnings.simplefilter("ignore")
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
