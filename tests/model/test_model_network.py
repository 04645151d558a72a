"""FGAesQ forward: shapes, determinism, compat flag, padding, autograd, autocast, parameter counts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import open_clip
import pytest
import torch
from model_helpers import random_tokens

from fgaesq.model import FGAesQ, FGAesQOutput, create_model


def test_output_shapes_and_score_range(tiny):
    with torch.no_grad():
        out = tiny(*random_tokens(tiny))
    assert isinstance(out, FGAesQOutput)
    assert out.features.shape == (2, 32) and out.logits.shape == (2, 10) and out.score.shape == (2,)
    assert ((out.score >= 1) & (out.score <= 10)).all()
    expected = (torch.softmax(out.logits, -1) * torch.arange(1, 11)).sum(-1)
    torch.testing.assert_close(out.score, expected)


def test_same_input_twice_gives_the_same_score(tiny):
    toks = random_tokens(tiny)
    with torch.no_grad():
        a, b = tiny(*toks), tiny(*toks)
    assert torch.equal(a.score, b.score) and torch.equal(a.features, b.features)


def test_inputs_are_not_modified(tiny):
    toks = random_tokens(tiny)
    copies = [t.clone() for t in toks]
    with torch.no_grad():
        tiny(*toks, compat=True)
        tiny(*toks, compat=False)
    assert all(torch.equal(a, b) for a, b in zip(toks, copies, strict=True))


@dataclass
class _Batch:  # the TokenBatch contract: attributes patches, pos, scale, pad
    patches: torch.Tensor
    pos: torch.Tensor
    scale: torch.Tensor
    pad: torch.Tensor


def test_accepts_a_token_batch_object(tiny):
    toks = random_tokens(tiny)
    with torch.no_grad():
        assert torch.equal(tiny(_Batch(*toks)).score, tiny(*toks).score)


def _extend_padding(toks, extra):
    patches, pos, scale, pad = toks
    b = patches.shape[0]
    return (
        torch.cat([patches, patches.new_zeros(b, extra, *patches.shape[2:])], 1),
        torch.cat([pos, pos.new_zeros(b, extra, pos.shape[2])], 1),
        torch.cat([scale, scale.new_zeros(b, extra)], 1),
        torch.cat([pad, pad.new_ones(b, extra)], 1),
    )


def test_compat_true_padding_count_changes_the_output(tiny):
    toks = random_tokens(tiny)
    with torch.no_grad():
        a = tiny(*toks, compat=True).features
        b = tiny(*_extend_padding(toks, 30), compat=True).features
    assert (a - b).abs().max() > 1e-4  # padding is attended, as in the authors' code


def test_compat_false_ignores_padding(tiny):
    toks = random_tokens(tiny)
    with torch.no_grad():
        a = tiny(*toks, compat=False)
        b = tiny(*_extend_padding(toks, 30), compat=False)
        single = [tiny(*(t[i : i + 1, :n] for t in toks), compat=True) for i, n in enumerate((40, 23))]
    torch.testing.assert_close(a.features, b.features, atol=2e-5, rtol=1e-5)
    # each sequence alone, without any padding, gives the same result (padding neither attended nor computed)
    for i in range(2):
        torch.testing.assert_close(a.features[i], single[i].features[0], atol=2e-5, rtol=1e-5)


def test_compat_follows_the_model_flag(tiny):
    toks = random_tokens(tiny)
    with torch.no_grad():
        tiny.compat = True
        on = tiny(*toks).score
        tiny.compat = False
        off = tiny(*toks).score
    assert not torch.allclose(on, off)
    assert torch.equal(off, tiny(*toks, compat=False).score)


def test_scale_embedding_and_mask_token_receive_gradients(tiny):
    tiny.train()
    out = tiny(*random_tokens(tiny), compat=True)
    out.score.sum().backward()
    g = tiny.scale_embedding.grad
    assert g is not None and g[0, 0].abs().sum() > 0 and g[0, 1].abs().sum() > 0
    assert tiny.mask_token.grad is not None and tiny.mask_token.grad.abs().sum() > 0
    assert tiny.visual.conv1.weight.grad.abs().sum() > 0
    assert tiny.visual.positional_embedding.grad is None  # positions arrive as inputs


def test_grad_checkpointing_gives_the_same_gradients(tiny):
    tiny.eval()
    toks = random_tokens(tiny)
    tiny(*toks).score.sum().backward()
    ref = tiny.visual.transformer.resblocks[0].mlp.c_fc.weight.grad.clone()
    tiny.zero_grad()
    tiny.set_grad_checkpointing(True)
    tiny(*toks).score.sum().backward()
    torch.testing.assert_close(tiny.visual.transformer.resblocks[0].mlp.c_fc.weight.grad, ref)


def test_fine_tokens_use_scale_embedding_one(tiny):
    patches, pos, scale, pad = random_tokens(tiny)
    with torch.no_grad():
        e0 = tiny.embed_tokens(patches, pos, torch.zeros_like(scale), pad)
        e1 = tiny.embed_tokens(patches, pos, scale, pad)
    diff = (e1 - e0)[scale.bool()]
    delta = (tiny.scale_embedding[0, 1] - tiny.scale_embedding[0, 0]).detach()
    torch.testing.assert_close(diff, delta.expand_as(diff))
    assert torch.equal(e1[~scale.bool()], e0[~scale.bool()])
    # padding slots carry the mask token + scale embedding 0, whatever their scale value says
    scale_bad = scale.masked_fill(pad, 1)
    with torch.no_grad():
        assert torch.equal(tiny.embed_tokens(patches, pos, scale_bad, pad), e1)
    row = e1[0, 60]
    torch.testing.assert_close(row, (tiny.mask_token[0, 0] + tiny.scale_embedding[0, 0]).detach())


def test_bf16_autocast_on_cpu_stays_close(tiny):
    toks = random_tokens(tiny)
    with torch.no_grad():
        ref = tiny(*toks).score
        with torch.autocast("cpu", dtype=torch.bfloat16):
            low = tiny(*toks)
    assert low.score.dtype == torch.float32
    torch.testing.assert_close(low.score, ref, atol=0.05, rtol=0)


def test_bad_shapes_are_refused(tiny):
    patches, pos, scale, pad = random_tokens(tiny)
    with pytest.raises(ValueError, match=r"pos must be \(B, L, D\)"):
        tiny(patches, pos[..., :10], scale, pad)
    with pytest.raises(ValueError, match="patches must be"):
        tiny(patches[..., :8, :8], pos, scale, pad)
    with pytest.raises(TypeError, match="TokenBatch"):
        tiny(patches)


def test_pos_source_and_embed_dim(tiny):
    assert tiny.pos_source.shape == (1 + 14 * 14, 64)
    assert not tiny.pos_source.requires_grad
    assert tiny.embed_dim == 32


def test_native_grid_forward_equals_open_clip_encode_image(tiny):
    """Plain 14x14 tokens with CLIP's own positions and zero scale embedding = open_clip's image tower."""
    image = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(3))
    patches = image.reshape(1, 3, 14, 16, 14, 16).permute(0, 2, 4, 1, 3, 5).reshape(1, 196, 3, 16, 16)
    patches = torch.cat([torch.zeros(1, 1, 3, 16, 16), patches], 1)
    pos = tiny.pos_source[None]
    scale = torch.zeros(1, 197, dtype=torch.long)
    pad = torch.zeros(1, 197, dtype=torch.bool)
    with torch.no_grad():
        tiny.scale_embedding.zero_()
        ours = tiny(patches, pos, scale, pad).features
        theirs = tiny.visual(image)
    assert isinstance(tiny.visual, open_clip.transformer.VisionTransformer)
    torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=1e-5)


def test_parameter_count_of_the_paper_model():
    model = create_model("fgaesq-vit-b-16")
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    tower = sum(p.numel() for p in model.visual.parameters())
    head = sum(p.numel() for p in model.iqa_head.parameters())
    assert (trainable, tower, head) == (86_343_370, 86_192_640, 148_426)
    assert model.scale_embedding.numel() + model.mask_token.numel() == 2_304
    assert len(model.visual.state_dict()) == 152
    assert isinstance(model.visual.transformer.resblocks[0].mlp.gelu, open_clip.transformer.QuickGELU)


def test_head_layout_matches_the_authors():
    m: FGAesQ = create_model("fgaesq-tiny")
    kinds = [type(x).__name__ for x in m.iqa_head]
    assert kinds == ["Linear", "ReLU", "Dropout", "Linear", "ReLU", "Dropout", "Linear"]
    assert [m.iqa_head[i].p for i in (2, 5)] == [0.2, 0.1]
    assert np.allclose(m.mask_token.detach().numpy(), 0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_cuda_autocast(tiny, dtype):
    toks = random_tokens(tiny)
    with torch.no_grad():
        ref = tiny(*toks).score
        m = tiny.cuda()
        with torch.autocast("cuda", dtype=dtype):
            out = m(*(t.cuda() for t in toks), compat=False)
    torch.testing.assert_close(out.score.cpu(), ref, atol=0.05, rtol=0)
