"""Text misalignment for AI series: skipped with a notice without weights; real open_clip path with local weights."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import skimage.data as skd
from calib_photos import save, shifted

from fgaesq.calibrate.clip_align import load_clip_aligner
from fgaesq.calibrate.defaults import Thresholds
from fgaesq.calibrate.refine import load_series, refine_all

TINY_CFG = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 64, "layers": 1, "width": 64, "head_width": 32, "patch_size": 16},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}


@pytest.fixture(scope="module")
def ai_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ai")
    save(shifted(skd.astronaut(), 0, 0), root / "gen-1" / "1.png")
    save(shifted(skd.astronaut(), 10, 4), root / "gen-1" / "2.png")
    (root / "gen-1" / "prompt.txt").write_text("an astronaut in a white suit, studio portrait\n")
    return root


@pytest.fixture(scope="module")
def tiny_clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real open_clip model (tiny, randomly initialised) saved as a local-dir with safetensors weights."""
    import open_clip
    import torch
    from safetensors.torch import save_file

    d = tmp_path_factory.mktemp("tiny_clip")
    (d / "open_clip_config.json").write_text(json.dumps({"model_cfg": TINY_CFG, "preprocess_cfg": {}}))
    torch.manual_seed(0)
    model = open_clip.CLIP(**TINY_CFG)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(d / "open_clip_model.safetensors"))
    return d


def test_skipped_with_notice_without_weights(ai_root: Path) -> None:
    series = load_series(ai_root)
    assert series[0].prompt == "an astronaut in a white suit, studio portrait"
    (res,), notices = refine_all(series)
    assert len(notices) == 1 and notices[0].startswith("text misalignment not checked: no CLIP weights")
    assert res.verdict == "keep" and all("clip" not in i for i in res.image_checks)


def test_unloadable_weights_give_a_notice(ai_root: Path, tmp_path: Path) -> None:
    aligner, note = load_clip_aligner("ViT-B-16", str(tmp_path / "missing.safetensors"))
    assert aligner is None and note.endswith("missing.safetensors not found")
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"not a weights file")
    aligner, note = load_clip_aligner(f"local-dir:{tmp_path}", None)  # no open_clip_config.json there
    assert aligner is None and "could not be loaded" in note


def test_real_clip_path_with_local_weights(ai_root: Path, tiny_clip_dir: Path) -> None:
    spec = f"local-dir:{tiny_clip_dir}"
    aligner, note = load_clip_aligner(spec, None)
    assert note is None
    from safetensors.torch import load_file

    saved = load_file(str(tiny_clip_dir / "open_clip_model.safetensors"))
    loaded = aligner.model.state_dict()
    assert all(np.array_equal(saved[k].numpy(), loaded[k].numpy()) for k in saved)  # weights came from the file
    img = np.asarray(skd.astronaut())
    s1 = aligner.similarity([img, skd.coffee()], "an astronaut")
    assert len(s1) == 2 and all(-1.0 <= s <= 1.0 for s in s1) and s1[0] != s1[1]
    assert aligner.similarity([img], "an astronaut")[0] == pytest.approx(s1[0], abs=1e-6)
    series = load_series(ai_root)
    (res,), notices = refine_all(series, Thresholds(clip_min=-1.0), clip_model=spec)
    assert notices == [] and res.verdict == "keep"
    assert all(isinstance(i["clip"], float) for i in res.image_checks)
    (res,), _ = refine_all(series, Thresholds(clip_min=1.0), clip_model=spec)
    assert res.verdict == "drop" and res.flags == ["text_misalignment"] and len(res.reasons) == 2
