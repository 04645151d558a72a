"""ONNX export of FGAesQ models: DiffToken ViTs (fixed-length sequences, dynamic batch) and fgaesq-lite (views).

A DiffToken model becomes a graph with inputs `patches` (B, L, 3, 16, 16) float32, `pos` (B, L, D) float32,
`scale` (B, L) int64 and `pad` (B, L) bool, and outputs `score` (B,) and `features` (B, E). With compat off,
padding is masked out of attention (torch instead cuts trailing padding: the same result to float rounding);
with compat on it takes part, as in the authors' release. fgaesq-lite takes `views` (B, V, 3, S, S).
`quantize_int8` adds weight int8 (dynamic) quantization with ONNX Runtime.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import Tensor, nn

FORMATS = ("onnx",)


def _attention(attn: nn.MultiheadAttention, x: Tensor, bias: Tensor | None) -> Tensor:
    """nn.MultiheadAttention's self-attention written out (its fused kernel has no ONNX form)."""
    b, n, d = x.shape
    h = attn.num_heads
    q, k, v = nn.functional.linear(x, attn.in_proj_weight, attn.in_proj_bias).chunk(3, dim=-1)
    q, k, v = (t.reshape(b, n, h, d // h).transpose(1, 2) for t in (q, k, v))
    o = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=bias)
    return nn.functional.linear(o.transpose(1, 2).reshape(b, n, d), attn.out_proj.weight, attn.out_proj.bias)


def _block(blk: nn.Module, x: Tensor, bias: Tensor | None) -> Tensor:
    h = blk.ln_1(x)
    x = x + blk.ls_1(_attention(blk.attn, h, bias))
    return x + blk.ls_2(blk.mlp(blk.ln_2(x)))


class StaticFGAesQ(nn.Module):
    """An FGAesQ forward without data-dependent shapes: every sequence keeps its L slots."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, patches: Tensor, pos: Tensor, scale: Tensor, pad: Tensor) -> tuple[Tensor, Tensor]:
        """(score (B,), features (B, E)) of a token batch."""
        m = self.model
        pad = pad.to(torch.bool)
        bias = None
        if not m.compat:  # padding keys get -inf (the CLS slot never does)
            keys = torch.cat([torch.zeros_like(pad[:, :1]), pad[:, 1:]], dim=1)
            bias = torch.zeros(keys.shape, dtype=pos.dtype).masked_fill(keys, float("-inf"))[:, None, None, :]
        x = m.visual.ln_pre(m.embed_tokens(patches, pos, scale, pad))
        for blk in m.visual.transformer.resblocks:
            x = _block(blk, x, bias)
        features = m.visual.ln_post(x[:, 0]) @ m.visual.proj
        logits = features
        for layer in m.iqa_head:  # dropout is the identity at inference; left out of the graph
            if not isinstance(layer, nn.Dropout):
                logits = layer(logits)
        probs = torch.softmax(logits.float(), dim=-1)
        return (probs * m.bins).sum(-1), features


class _LiteGraph(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.folded = model.folded_backbone()  # built before tracing; a submodule, so its weights export as such

    def forward(self, views: Tensor) -> tuple[Tensor, Tensor]:
        out = self.model(views)
        return out.score, out.features


def _is_lite(model: nn.Module) -> bool:
    from fgaesq.model.lite import FGAesQLite

    return isinstance(model, FGAesQLite)


def example_inputs(model: nn.Module, batch: int = 2) -> tuple[Tensor, ...]:
    """Inputs of the right shapes and types for tracing `model` (a padded tail, as real sequences have)."""
    if _is_lite(model):
        c = model.config
        return (torch.zeros(batch, c.n_views, 3, c.view_size, c.view_size),)
    cfg = model.config
    g = torch.Generator().manual_seed(0)
    n, d, p = cfg.seq_len, cfg.width, cfg.patch_size
    pad = torch.zeros(batch, n, dtype=torch.bool)
    pad[:, n - 7 :] = True
    scale = torch.zeros(batch, n, dtype=torch.int64)
    scale[:, 1:9] = 1
    return (torch.randn(batch, n, 3, p, p, generator=g), torch.randn(batch, n, d, generator=g) * 0.02, scale, pad)


def export_onnx(model: nn.Module, path: str | Path, *, int8: bool = False, opset: int = 18) -> Path:
    """Write `model` as an ONNX graph (dynamic batch) to path; with int8, the quantized graph. Returns path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = model.eval().to("cpu")
    lite = _is_lite(model)
    graph = _LiteGraph(model) if lite else StaticFGAesQ(model)
    names = ["views"] if lite else ["patches", "pos", "scale", "pad"]
    args = example_inputs(model)
    fp32 = path.with_name(path.stem + ".fp32.onnx") if int8 else path
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            graph, args, str(fp32), input_names=names, output_names=["score", "features"],
            dynamic_axes={**{k: {0: "batch"} for k in names}, "score": {0: "batch"}, "features": {0: "batch"}},
            opset_version=opset, dynamo=True, external_data=False, verbose=False,
        )
    if int8:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(str(fp32), str(path), weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul", "Gemm"])
        fp32.unlink()
    return path
