"""Freed memory is kept for the next photo: no page-fault storm per 12 MP photo (FGAESQ_KEEP_MEMORY=0 opts out)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

_PROBE = r"""
import resource, sys
from PIL import Image
from skimage import data
from fgaesq.io import load_image
from fgaesq.scoring.memory import retain_freed_memory
path = sys.argv[1]
Image.fromarray(data.astronaut()).resize((4000, 3000), Image.Resampling.BICUBIC).save(path, quality=90)
tuned = retain_freed_memory()  # what load_scorer does (unless FGAESQ_KEEP_MEMORY=0)
load_image(path, None)  # one photo, decoded and dropped ...
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
load_image(path, None)  # ... then the next one
print(int(tuned), resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _probe(tmp_path, keep: str) -> tuple[bool, int]:
    env = {**os.environ, "FGAESQ_KEEP_MEMORY": keep}
    out = subprocess.run([sys.executable, "-c", _PROBE, str(tmp_path / f"p{keep}.jpg")], env=env, check=True,
                         capture_output=True, text=True).stdout.split()  # fmt: skip
    return out[0] == "1", int(out[1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc tuning is Linux-only")
def test_next_12mp_photo_reuses_the_memory_of_the_last(tmp_path):
    tuned, faults = _probe(tmp_path, "1")
    untuned, faults_default = _probe(tmp_path, "0")
    assert tuned and not untuned
    # a 12 MP RGB photo is 36 MB = ~8,800 pages: by default they are mapped afresh for the next photo
    assert faults_default > 8_000, faults_default
    assert faults < faults_default / 10, (faults, faults_default)


def test_shared_decode_cache_decodes_each_photo_once_per_run(tmp_path):
    """Inside the block a second pass reads the first pass's pixels; a changed file is decoded anew; the
    budget is kept; nothing is left behind."""
    import numpy as np
    from PIL import Image
    from skimage import data

    from fgaesq.model.registry import Preprocess
    from fgaesq.scoring.images import decode, decode_array, shared_decode_cache

    pre = Preprocess(max_size=256)
    photo = tmp_path / "a.jpg"
    Image.fromarray(data.astronaut()).save(photo, quality=90)
    want = np.asarray(decode(photo, pre))
    with shared_decode_cache() as folder:
        first = decode_array(photo, pre)
        files = os.listdir(folder)
        assert len(files) == 1 and files[0].endswith(".npy")
        again = decode_array(photo, pre)  # read back: the same pixels, the same (read-only) kind of array
        assert np.array_equal(first, want) and np.array_equal(again, want)
        assert not first.flags.writeable and not again.flags.writeable
        Image.fromarray(data.coffee()).save(photo, quality=90)  # the file changes during the run
        os.utime(photo, ns=(1, 10**18))
        assert np.array_equal(decode_array(photo, pre), np.asarray(decode(photo, pre)))
        assert len(os.listdir(folder)) == 2
    assert not os.path.exists(folder)
    with shared_decode_cache(budget=1000) as small:  # too small for one photo: decoded each time, not kept
        decode_array(photo, pre)
        assert os.listdir(small) == []
