"""fgaesq-lite's native-resolution views and what they let the shipped model see (real skimage photos)."""

from __future__ import annotations

import io
import json

import cv2
import numpy as np
import pytest
import skimage.data
from PIL import Image

from fgaesq.model.lite import LiteConfig, detail_boxes, pair_viewsets, single_viewset
from fgaesq.model.lite.views import _to_tensor
from fgaesq.model.loading import WEIGHTS_DIR
from fgaesq.scoring import load_scorer


def _big(name: str = "astronaut", size: tuple[int, int] = (4000, 3000)) -> Image.Image:
    """A real photo upscaled to 12 MP (its detail is then softer per pixel than a camera's: a hard case)."""
    return Image.fromarray(getattr(skimage.data, name)()).convert("RGB").resize(size, Image.Resampling.LANCZOS)


@pytest.fixture(scope="module")
def scorer():
    return load_scorer("fgaesq-lite", device="cpu")


def test_native_crops_are_original_pixels_at_the_most_detailed_places():
    img = _big("coffee")
    vs = single_viewset(img, LiteConfig())
    assert vs.size == (4000, 3000) and vs.views.shape == (4, 3, 224, 224) and len(vs.boxes) == 3
    for k, (x0, y0, x1, y1) in enumerate(vs.boxes):
        assert (x1 - x0, y1 - y0) == (224, 224) and 0 <= x0 and x1 <= 4000 and 0 <= y0 and y1 <= 3000
        assert np.array_equal(vs.views[1 + k].numpy(), _to_tensor(img.crop((x0, y0, x1, y1))).numpy())
    for i, a in enumerate(vs.boxes):  # the crops sample different places
        for b in vs.boxes[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
    grey = np.asarray(img.convert("L").resize((500, 375)), dtype=np.float32)
    lap = np.abs(cv2.Laplacian(grey, cv2.CV_32F))
    chosen = np.mean([lap[y0 // 8 : y1 // 8, x0 // 8 : x1 // 8].mean() for x0, y0, x1, y1 in vs.boxes])
    assert chosen > 1.5 * lap.mean()  # detailed windows, not flat background
    assert single_viewset(img, LiteConfig()).boxes == vs.boxes  # deterministic


def test_pair_windows_follow_where_the_frames_differ():
    img = _big("astronaut")
    arr = np.asarray(img).copy()
    arr[2000:2300, 500:800] = cv2.GaussianBlur(arr[2000:2300, 500:800], (0, 0), 3)
    va, vb = pair_viewsets(img, Image.fromarray(arr), LiteConfig())
    assert va.boxes == vb.boxes
    x0, y0, x1, y1 = va.boxes[0]
    assert x0 < 800 and x1 > 500 and y0 < 2300 and y1 > 2000, va.boxes
    # identical frames: no difference to follow, the detail windows are used
    same_a, _ = pair_viewsets(img, img, LiteConfig())
    assert same_a.boxes == single_viewset(img, LiteConfig()).boxes


def test_old_checkpoints_keep_their_reduced_views():
    old = LiteConfig.from_dict({"arch": "fgaesq-lite", "work_size": 512, "view_size": 224})
    assert (old.native, old.crop_select, old.n_crops, old.decode_size) == (False, "quadrants", 2, 512)
    vs = single_viewset(_big("coffee", (1200, 800)), old)
    assert vs.size == (512, 341) and vs.boxes[0] == (16, 0, 240, 224)
    assert LiteConfig().decode_size is None  # new models decode at full resolution


def test_shipped_model_is_native_and_says_so(scorer):
    info = json.loads((WEIGHTS_DIR / "fgaesq-lite.json").read_text())
    assert info["config"]["native"] is True and info["preprocess"]["max_size"] is None
    assert scorer.model.config.native and scorer.preprocess.max_size is None
    (used,) = scorer.views_used([_big("chelsea", (2400, 1600))])
    assert used.size == (2400, 1600) and all(b[2] - b[0] == 224 for b in used.boxes)


def test_sharp_12mp_frame_beats_one_px_focus_blur(scorer):
    """Failed with the first lite (it saw the photo at 512 px, where a 1 px blur of 12 MP vanishes)."""
    for name in ("astronaut", "chelsea"):
        sharp = np.asarray(_big(name))
        blurred = cv2.GaussianBlur(sharp, (0, 0), 1.0)
        s = scorer.score([Image.fromarray(sharp), Image.fromarray(blurred)])
        assert s[0] > s[1], (name, s)


def test_lossless_beats_its_jpeg_q75_copy(scorer):
    wins = 0
    for name in ("astronaut", "chelsea", "coffee", "rocket"):
        photo = Image.fromarray(getattr(skimage.data, name)()).convert("RGB")
        buf = io.BytesIO()
        photo.save(buf, format="JPEG", quality=75)
        s = scorer.score([photo, Image.open(io.BytesIO(buf.getvalue()))])
        wins += int(s[0] > s[1])
    assert wins >= 3, wins


def test_detail_boxes_of_a_flat_image_fall_back_to_quadrants():
    flat = Image.new("RGB", (1000, 800), (90, 120, 150))
    boxes = detail_boxes(flat, flat.resize((512, 410)), 224, 2)
    assert boxes == [(138, 88, 362, 312), (638, 488, 862, 712)]


def test_training_inputs_decode_a_file_once_and_key_by_pixels(clive_dir, tmp_path):
    import torch

    from fgaesq.train.lite_inputs import Decoded, LiteInputs

    photo = clive_dir / "images" / "1000.jpg"
    inputs = LiteInputs(LiteConfig(), cache_dir=tmp_path, use_reference=False)
    first = inputs.loader(photo, None)
    assert isinstance(first, Image.Image)  # the first time: pixels
    again = inputs.loader(photo, None)
    assert isinstance(again, Decoded)  # later epochs: only the pixel digest
    d1, d2 = inputs.build(first, None, None), inputs.build(again, None, None)
    torch.testing.assert_close(d1, d2)
    fresh = LiteInputs(LiteConfig(), cache_dir=tmp_path)  # another process: same key from the file's pixels
    assert fresh.key(photo) == inputs.key(again) and len(list(tmp_path.glob("*.npy"))) == 1
