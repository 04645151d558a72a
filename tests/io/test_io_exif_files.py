"""Capture times from EXIF (with sub-seconds) and file times; folder scans."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from PIL import Image
from skimage import data

from fgaesq.io import capture_time, collect_paths, list_images


def _jpeg_with_time(path, when: str, subsec: str | None = None):
    exif = Image.Exif()
    ifd = exif.get_ifd(0x8769)
    ifd[36867] = when
    if subsec is not None:
        ifd[37521] = subsec
    Image.fromarray(data.coffee()).save(path, quality=85, exif=exif)
    return path


def test_exif_datetime_original_with_subseconds(tmp_path):
    a = _jpeg_with_time(tmp_path / "a.jpg", "2024:05:01 10:00:00", "25")
    b = _jpeg_with_time(tmp_path / "b.jpg", "2024:05:01 10:00:01", "5")
    ta, tb = capture_time(a), capture_time(b)
    assert ta.source == tb.source == "exif"
    assert abs((tb.timestamp - ta.timestamp) - 1.25) < 1e-6
    expected = datetime(2024, 5, 1, 10, 0, 0, 250000, tzinfo=UTC).timestamp()
    assert abs(ta.timestamp - expected) < 1e-6
    assert ta.isoformat() == "2024-05-01T10:00:00.250000"


def test_falls_back_to_file_time(tmp_path):
    p = tmp_path / "p.png"
    Image.fromarray(data.coffee()).save(p)
    os.utime(p, (1_700_000_000, 1_700_000_000))
    t = capture_time(p)
    assert t.source == "mtime" and t.timestamp == 1_700_000_000


def test_folder_scan_ignores_sidecars_and_hidden_files(tmp_path):
    for name in ["b.JPG", "a.png", "c.heic", "x.gif", "notes.txt", "a.png.xmp", ".hidden.jpg"]:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "d.tif").write_bytes(b"x")
    assert [p.name for p in list_images(tmp_path)] == ["a.png", "b.JPG", "c.heic", "x.gif"]
    assert "d.tif" in [p.name for p in list_images(tmp_path, recursive=True)]
    for name in ["IMG_10.jpg", "IMG_9.jpg"]:
        (tmp_path / "sub" / name).write_bytes(b"x")
    assert [p.name for p in list_images(tmp_path / "sub")] == ["d.tif", "IMG_9.jpg", "IMG_10.jpg"]
    # explicit files are kept whatever their extension; duplicates collapse
    got = collect_paths([tmp_path / "notes.txt", tmp_path, tmp_path / "a.png"])
    assert [p.name for p in got] == ["notes.txt", "a.png", "b.JPG", "c.heic", "x.gif"]
