"""Near-duplicate photo series built from skimage.data photos (real images, small shifts and exposure changes)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import skimage.data as skd
from calib_photos import exposed, save, shifted
from PIL import Image, ImageFilter


@pytest.fixture(scope="session")
def series_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ROOT/<series>/<images>: two clean series and one per injected problem."""
    root = tmp_path_factory.mktemp("series")
    coffee, chelsea, rocket, astro = skd.coffee(), skd.chelsea(), skd.rocket(), skd.astronaut()
    # clean: burst-like variants of one shot
    save(shifted(coffee, 0, 0), root / "coffee" / "1.jpg")
    save(shifted(coffee, 12, 6), root / "coffee" / "2.jpg")
    save(exposed(shifted(coffee, 4, 4), 1.15), root / "coffee" / "3.jpg")
    blurred = Image.fromarray(shifted(coffee, 8, 2)).filter(ImageFilter.GaussianBlur(1.2))
    save(np.asarray(blurred), root / "coffee" / "4.jpg")
    left, right, _ = skd.stereo_motorcycle()  # a real left/right pair of one scene
    save(left, root / "motorcycle" / "left.png")
    save(right, root / "motorcycle" / "right.png")
    # dissimilar: a different photo injected into a series
    save(shifted(chelsea, 0, 0), root / "cat-injected" / "1.jpg")
    save(exposed(shifted(chelsea, 10, 10), 0.85), root / "cat-injected" / "2.jpg")
    save(shifted(astro, 0, 0), root / "cat-injected" / "3.jpg")
    # indiscernible: an exact duplicate
    save(shifted(rocket, 0, 0), root / "rocket-dup" / "1.jpg")
    save(exposed(shifted(rocket, 6, 0), 1.2), root / "rocket-dup" / "2.jpg")
    shutil.copyfile(root / "rocket-dup" / "1.jpg", root / "rocket-dup" / "3.jpg")
    # defect: a black frame
    save(shifted(astro, 0, 0), root / "astro-black" / "1.jpg")
    save(shifted(astro, 8, 12), root / "astro-black" / "2.jpg")
    save(np.zeros_like(shifted(astro, 0, 0)), root / "astro-black" / "3.jpg")
    return root
