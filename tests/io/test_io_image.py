"""Decoding real photos in every supported format, orientation, draft decoding, limits and bad inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from io_bad_files import make_bad_files
from PIL import Image
from skimage import data

from fgaesq.io import ImageError, load_image

ASTRONAUT = data.astronaut()  # 512x512 RGB photo


def _save(img: Image.Image, path: Path, **kw) -> Path:
    img.save(path, **kw)
    return path


@pytest.mark.parametrize(
    "name, kw",
    [
        ("a.jpg", {"quality": 95}),
        ("a.png", {}),
        ("a.webp", {"quality": 95}),
        ("a.tiff", {}),
        ("a.bmp", {}),
        ("a.heic", {"quality": 95}),
    ],
)
def test_each_format_decodes_to_the_same_photo(tmp_path, name, kw):
    src = Image.fromarray(ASTRONAUT)
    path = _save(src, tmp_path / name, **kw)
    before = path.read_bytes()
    img = load_image(path)
    assert img.mode == "RGB" and img.size == (512, 512)
    err = np.abs(np.asarray(img, dtype=np.float64) - ASTRONAUT).mean()
    assert err < 6.0, f"{name}: mean abs error {err}"
    assert path.read_bytes() == before  # never modified


def test_png_with_alpha_and_grey_and_16bit(tmp_path):
    rgba = Image.fromarray(ASTRONAUT).convert("RGBA")
    rgba.putalpha(128)
    assert load_image(_save(rgba, tmp_path / "a.png")).mode == "RGB"
    grey = Image.fromarray(data.camera())
    out = load_image(_save(grey, tmp_path / "g.png"))
    assert out.mode == "RGB" and np.array_equal(np.asarray(out)[..., 0], data.camera())
    g16 = Image.fromarray(data.camera().astype(np.uint16) * 256)
    out16 = load_image(_save(g16, tmp_path / "g16.tiff"))
    assert np.abs(np.asarray(out16)[..., 1].astype(int) - data.camera()).max() <= 1


@pytest.mark.parametrize("orientation, expect", [(1, "none"), (3, "rot180"), (6, "rot270"), (8, "rot90")])
def test_exif_orientation_applied(tmp_path, orientation, expect):
    arr = data.chelsea()  # 300 x 451 (H x W)
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = _save(Image.fromarray(arr), tmp_path / "c.jpg", quality=97, exif=exif)
    out = np.asarray(load_image(path), dtype=np.float64)
    ref = {"none": arr, "rot180": np.rot90(arr, 2), "rot270": np.rot90(arr, -1), "rot90": np.rot90(arr, 1)}[expect]
    assert out.shape == ref.shape
    assert np.abs(out - ref).mean() < 4.0


def test_max_size_limits_long_side_and_keeps_aspect(tmp_path):
    big = Image.fromarray(data.chelsea()).resize((1804, 1200), Image.Resampling.LANCZOS)
    path = _save(big, tmp_path / "big.png")
    assert load_image(path, max_size=451).size == (451, 300)
    assert load_image(path, max_size=None).size == (1804, 1200)
    assert load_image(path, max_size=4000).size == (1804, 1200)  # never upscaled


def test_jpeg_draft_decoding_gives_the_same_picture(tmp_path):
    big = Image.fromarray(data.chelsea()).resize((3608, 2400), Image.Resampling.LANCZOS)
    path = _save(big, tmp_path / "big.jpg", quality=92)
    with Image.open(path) as im:  # the draft request really reduces the decode
        im.draft("RGB", (451, 300))
        assert im.size == (451, 300)
    fast = np.asarray(load_image(path, max_size=451), dtype=np.float64)
    slow = np.asarray(load_image(path, max_size=None).resize((451, 300), Image.Resampling.LANCZOS), dtype=np.float64)
    assert fast.shape == slow.shape == (300, 451, 3)
    assert np.abs(fast - slow).mean() < 3.0


def test_pil_image_input_is_oriented_and_limited():
    img = Image.fromarray(ASTRONAUT).convert("RGBA")
    out = load_image(img, max_size=256)
    assert out.mode == "RGB" and out.size == (256, 256)


@pytest.mark.parametrize(
    "kind, words",
    [
        ("zero", "empty file"),
        ("truncated", "truncated"),
        ("corrupt", "not an image"),
        ("bomb", "decompression"),
        ("unsupported", "unsupported format"),
        ("text", "not an image"),
    ],
)
def test_bad_inputs_raise_one_clear_image_error(tmp_path, kind, words):
    files = make_bad_files(tmp_path)
    before = {k: p.read_bytes() for k, p in files.items()}
    with pytest.raises(ImageError) as info:
        load_image(files[kind])
    msg = str(info.value)
    assert "\n" not in msg and str(files[kind]) in msg and words in msg.lower()
    assert {k: p.read_bytes() for k, p in files.items()} == before


def test_corrupt_body_with_valid_header_is_reported(tmp_path):
    Image.fromarray(ASTRONAUT).save(tmp_path / "x.png")
    raw = bytearray((tmp_path / "x.png").read_bytes())
    mid = len(raw) // 2
    raw[mid : mid + 64] = b"\xff" * 64
    (tmp_path / "y.png").write_bytes(bytes(raw))
    with pytest.raises(ImageError, match="corrupt|truncated"):
        load_image(tmp_path / "y.png")


def test_encoded_bytes_decode_like_the_file_and_errors_name_the_sample(tmp_path):
    path = _save(Image.fromarray(ASTRONAUT), tmp_path / "a.jpg", quality=92, exif=_exif_orientation(6))
    from_file = np.asarray(load_image(path, 256))
    from_bytes = np.asarray(load_image(path.read_bytes(), 256, name="shard-0001.tar:a.jpg"))
    assert from_bytes.shape == from_file.shape and np.array_equal(from_bytes, from_file)
    with pytest.raises(ImageError, match=r"shard-0001\.tar:b\.jpg"):
        load_image(path.read_bytes()[:200], name="shard-0001.tar:b.jpg")
    with pytest.raises(ImageError, match="empty"):
        load_image(b"", name="x.jpg")


def _exif_orientation(value: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = value
    return exif.tobytes()


@pytest.mark.parametrize("grey_rows, refused", [(0, False), (48, False), (96, False), (112, True), (512, True)])
def test_flat_grey_bottom_of_a_jpeg_is_measured_exactly(tmp_path, grey_rows, refused):
    """libjpeg fills absent data with flat grey: 20 % of the height or more is refused, less is kept as is."""
    arr = ASTRONAUT.copy()
    if grey_rows:
        arr[-grey_rows:] = 128
    path = _save(Image.fromarray(arr), tmp_path / "g.jpg", quality=95)
    if refused:
        with pytest.raises(ImageError, match=f"bottom {grey_rows / 512:.0%}"):
            load_image(path, None)
    else:
        assert load_image(path, None).size == (512, 512)


def test_decoded_photo_outlives_its_file(tmp_path):
    path = _save(Image.fromarray(ASTRONAUT), tmp_path / "a.jpg", quality=95)
    img = load_image(path, None)
    before = np.asarray(img).copy()
    _save(Image.fromarray(ASTRONAUT[::-1].copy()), path, quality=60)  # the file is replaced, then removed
    path.unlink()
    assert np.array_equal(np.asarray(img), before) and np.asarray(load_image(img, None)).shape == (512, 512, 3)
