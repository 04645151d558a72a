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
