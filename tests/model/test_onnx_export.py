"""ONNX export and the ONNX Runtime backend against torch, on real photos (fgaesq-tiny and fgaesq-lite)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data
from typer.testing import CliRunner

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

from fgaesq.cli import app  # noqa: E402
from fgaesq.model import create_model, save_checkpoint  # noqa: E402
from fgaesq.scoring import load_scorer  # noqa: E402
from fgaesq.scoring.vit import FGAesQScorer  # noqa: E402


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> list:
    folder = tmp_path_factory.mktemp("onnx_photos")
    out = []
    for name in ("astronaut", "coffee", "chelsea", "rocket"):
        p = folder / f"{name}.jpg"
        Image.fromarray(getattr(data, name)()).save(p, quality=92)
        out.append(p)
    return out


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    import os

    old = os.environ.get("FGAESQ_CACHE")
    os.environ["FGAESQ_CACHE"] = str(tmp_path_factory.mktemp("onnx_cache"))
    yield
    if old is None:
        os.environ.pop("FGAESQ_CACHE", None)
    else:
        os.environ["FGAESQ_CACHE"] = old


@pytest.mark.parametrize("compat", [False, True])
def test_tiny_onnx_matches_torch_on_photos(photos, cache, compat):
    """fp32 ONNX scores = torch scores within 1e-4, single and pair mode; int8 stays close and keeps the order."""
    torch.manual_seed(7)
    model = create_model("fgaesq-tiny")
    model.compat = compat
    ref = FGAesQScorer(model, device="cpu", workers=0, max_size=512)
    onnx = FGAesQScorer(model, device="cpu", workers=0, max_size=512, backend="onnx")
    assert "[onnx]" in onnx.name
    assert np.abs(onnx.score(photos) - ref.score(photos)).max() <= 1e-4
    pairs = [(photos[0], photos[1], "p01"), (photos[2], photos[3], "p23")]
    assert np.abs(onnx.score_pairs(pairs) - ref.score_pairs(pairs)).max() <= 1e-4
    assert np.abs(onnx.embed(photos) - ref.embed(photos)).max() <= 1e-4


def test_lite_onnx_matches_torch(photos, cache):
    ref = load_scorer("fgaesq-lite", device="cpu")
    onnx = load_scorer("fgaesq-lite", device="cpu", backend="onnx")
    assert np.abs(onnx.score(photos) - ref.score(photos)).max() <= 1e-4


@pytest.mark.parametrize("version, penalties", [(2, ("noise",)), (3, ("noise", "quant"))])
def test_lite_with_the_noise_mosaic_exports_to_onnx(photos, cache, tmp_path, version, penalties):
    """Technical blocks 2 (one more view, measured but not seen by the backbone) and 3 (+ the JPEG quantisation
    step: a histogram by scatter-add) and monotone penalty columns run in ONNX Runtime unchanged."""
    from fgaesq.model.lite import FGAesQLite, LiteConfig, single_viewset
    from fgaesq.model.lite.technical import penalty_columns

    torch.manual_seed(5)
    cfg = LiteConfig(technical=version, penalties=penalty_columns(version, penalties), desc_dropout=0.5)
    net = FGAesQLite(cfg).eval()
    views = torch.stack([single_viewset(Image.open(p).convert("RGB"), net.config).views for p in photos])
    net.set_normalisation(torch.cat([net.describe(views)] * 10) + torch.randn(40, net.config.desc_dim))
    ckpt = save_checkpoint(net, tmp_path / "lite-v2.safetensors")
    ref = load_scorer(str(ckpt), device="cpu")
    onnx = load_scorer(str(ckpt), device="cpu", backend="onnx")
    assert np.abs(onnx.score(photos) - ref.score(photos)).max() <= 1e-4


def test_export_command_writes_an_int8_graph_that_onnxruntime_runs(tmp_path):
    """`fgaesq export --int8` from a checkpoint: a smaller graph, any batch size, scores near fp32 torch."""
    import onnxruntime as ort

    from fgaesq.model.onnx_export import example_inputs

    torch.manual_seed(3)
    model = create_model("fgaesq-tiny")
    ckpt = save_checkpoint(model, tmp_path / "tiny.safetensors")
    out = tmp_path / "tiny-int8.onnx"
    res = CliRunner().invoke(app, ["export", str(out), "--weights", str(ckpt), "--int8"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    sess = ort.InferenceSession(str(out))
    assert [i.name for i in sess.get_inputs()] == ["patches", "pos", "scale", "pad"]
    assert any(n.op_type.startswith(("MatMulInteger", "DynamicQuantize")) for n in _nodes(out))
    args = example_inputs(model, batch=3)
    score, feats = sess.run(["score", "features"], {i.name: a.numpy() for i, a in zip(sess.get_inputs(), args,
                                                                                           strict=True)})
    with torch.no_grad():
        ref = model.eval()(*args)
    assert score.shape == (3,) and feats.shape == (3, 32)
    assert 0 < np.abs(score - ref.score.numpy()).max() < 0.2
    bad = CliRunner().invoke(app, ["export", str(tmp_path / "x.bin"), "--weights", str(ckpt)])
    assert bad.exit_code == 2 and ".onnx" in bad.output


def _nodes(path):
    import onnx

    return onnx.load(str(path)).graph.node
