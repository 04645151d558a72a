"""Refinement on Debian opencv-doc data: consecutive video frames and stereo calibration pairs.

Skipped when the Debian package `opencv-doc` is not installed (or its videos cannot be decoded).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from calib_photos import save

from fgaesq.calibrate.refine import load_series, refine_all

DATA = Path("/usr/share/doc/opencv-doc/examples/data")


def frames(video: Path, wanted: list[int]) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(video))
    out, i = {}, 0
    while len(out) < len(wanted):
        ok, frame = cap.read()
        if not ok:
            break
        if i in wanted:
            out[i] = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        i += 1
    cap.release()
    return [out[k] for k in wanted if k in out]


@pytest.fixture(scope="module")
def doc_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    needed = [DATA / n for n in ("vtest.avi", "tree.avi", "left01.jpg", "right01.jpg")]
    if not all(p.is_file() for p in needed):
        pytest.skip("Debian opencv-doc not installed (apt-get install opencv-doc)")
    walk = frames(DATA / "vtest.avi", [0, 10, 20])
    tree = frames(DATA / "tree.avi", [0])
    if len(walk) < 3 or not tree:
        pytest.skip("OpenCV cannot decode the opencv-doc videos here")
    root = tmp_path_factory.mktemp("opencv_doc")
    for k, f in enumerate(walk):
        save(f, root / "vtest-frames" / f"{k}.png")
    save(walk[0], root / "vtest-injected" / "0.png")
    save(walk[1], root / "vtest-injected" / "1.png")
    save(tree[0], root / "vtest-injected" / "2.png")
    (root / "stereo-01").mkdir()
    for name in ("left01.jpg", "right01.jpg"):
        shutil.copyfile(DATA / name, root / "stereo-01" / name)
    return root


def test_video_frames_and_stereo_pair_kept_injected_frame_flagged(doc_root: Path) -> None:
    res = {r.series: r for r in refine_all(load_series(doc_root))[0]}
    assert res["vtest-frames"].verdict == "keep", res["vtest-frames"].reasons
    assert res["stereo-01"].verdict == "keep", res["stereo-01"].reasons
    assert res["stereo-01"].pair_checks[0]["ssim"] < 0.35  # kept thanks to the verified matches
    bad = res["vtest-injected"]
    assert bad.flags == ["dissimilar"] and bad.reasons == [
        "dissimilar: 2.png does not match the other image(s) of the series"
    ]
