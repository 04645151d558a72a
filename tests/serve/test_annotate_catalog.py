"""The catalogue finds series in sub-folders and never resolves a file outside ROOT."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image
from skimage import data as skdata

from fgaesq.serve.annotate.catalog import Catalog, CatalogError

from .conftest import SAME, TRUTH


def test_series_are_subfolders_with_two_or_more_images(series_root: Path) -> None:
    cat = Catalog.scan(series_root)
    assert sorted(cat.series) == sorted([*TRUTH, SAME[0]])
    assert cat.series["astronaut"].images == tuple(sorted(TRUTH["astronaut"]))
    assert cat.n_pairs == 6 + 3 + 1
    assert len(list(cat.pairs())) == cat.n_pairs
    assert all(lo < hi for _, lo, hi in cat.pairs())


def test_skips_hidden_non_images_single_images_and_links_out_of_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    (root / "burst").mkdir(parents=True)
    outside.mkdir()
    img = Image.fromarray(skdata.chelsea())
    img.save(root / "burst" / "a.jpg")
    img.save(root / "burst" / "b.webp")
    img.save(root / "burst" / "c.tif")
    img.save(root / "burst" / ".hidden.jpg")
    (root / "burst" / "notes.txt").write_text("not an image")
    (root / "lonely").mkdir()
    img.save(root / "lonely" / "only.jpg")
    (root / ".trash").mkdir()
    img.save(root / ".trash" / "x.jpg")
    img.save(root / ".trash" / "y.jpg")
    img.save(outside / "secret.jpg")
    img.save(outside / "secret2.jpg")
    os.symlink(outside / "secret.jpg", root / "burst" / "d.jpg")  # file link out of ROOT
    os.symlink(outside, root / "linked")  # series link out of ROOT
    os.symlink(root / "burst" / "a.jpg", root / "burst" / "e.jpg")  # link inside ROOT is fine

    cat = Catalog.scan(root)
    assert list(cat.series) == ["burst"]
    assert cat.series["burst"].images == ("a.jpg", "b.webp", "c.tif", "e.jpg")
    assert cat.image_path("burst", "d.jpg") is None
    assert cat.image_path("linked", "secret.jpg") is None
    assert cat.image_path("burst", "e.jpg") == (root / "burst" / "a.jpg").resolve()


def test_image_path_refuses_everything_not_in_the_catalogue(series_root: Path) -> None:
    cat = Catalog.scan(series_root)
    good = cat.image_path("astronaut", "p1.jpg")
    assert good is not None and good.is_file() and good.is_relative_to(cat.root)
    for series, name in [
        ("astronaut", "../coffee/c1.png"),
        ("..", "root/astronaut/p1.jpg"),
        ("astronaut", "/etc/passwd"),
        ("astronaut", "p1.jpg\x00.png"),
        ("astronaut", "..\\coffee\\c1.png"),
        ("nope", "p1.jpg"),
        ("astronaut", "p9.jpg"),
    ]:
        assert cat.image_path(series, name) is None, (series, name)


def test_a_file_swapped_for_a_link_out_of_root_after_the_scan_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "s").mkdir(parents=True)
    img = Image.fromarray(skdata.chelsea())
    for n in ("a.png", "b.png"):
        img.save(root / "s" / n)
    (tmp_path / "secret.png").write_bytes((root / "s" / "a.png").read_bytes())
    cat = Catalog.scan(root)
    assert cat.image_path("s", "a.png") is not None
    (root / "s" / "a.png").unlink()
    os.symlink(tmp_path / "secret.png", root / "s" / "a.png")
    assert cat.image_path("s", "a.png") is None


def test_clear_errors_for_missing_or_empty_root(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="not a folder"):
        Catalog.scan(tmp_path / "missing")
    (tmp_path / "empty" / "s").mkdir(parents=True)
    with pytest.raises(CatalogError, match="no series found"):
        Catalog.scan(tmp_path / "empty")
