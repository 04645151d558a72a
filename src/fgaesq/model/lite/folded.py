"""The frozen EfficientNet-Lite0 backbone for inference: batch norm folded into the convolutions, "SAME" padding
worked out once per input size, ReLU6 in place.

The backbone of fgaesq-lite never trains (its batch-norm statistics are frozen), so each conv + BN pair is one
convolution with a bias: w·γ/√(σ² + ε) and β − μ·γ/√(σ² + ε), folded in float64. It computes what
`efficientnet_lite_pytorch`'s modules compute (descriptors equal to ~1e-6 relative, float rounding) at about
two thirds of their CPU cost, and returns the same stage outputs (``taps``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def _fold(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """(weight, bias) of ``conv`` followed by ``bn`` in eval mode, computed in float64 on the CPU (MPS has no
    float64) and returned on the convolution's device and dtype."""

    def f64(t: torch.Tensor) -> torch.Tensor:
        return t.detach().to("cpu", torch.float64)

    scale = f64(bn.weight) / torch.sqrt(f64(bn.running_var) + bn.eps)
    bias = f64(bn.bias) - f64(bn.running_mean) * scale
    if conv.bias is not None:
        bias = bias + f64(conv.bias) * scale
    like = {"device": conv.weight.device, "dtype": conv.weight.dtype}
    return (f64(conv.weight) * scale.view(-1, 1, 1, 1)).to(**like), bias.to(**like)


def _same_pad(size: int, k: int, s: int) -> tuple[int, int]:
    """TensorFlow "SAME" padding (before, after) of one axis, as the package's Conv2dDynamicSamePadding pads."""
    total = max((math.ceil(size / s) - 1) * s + k - size, 0)
    return total // 2, total - total // 2


class _Conv(nn.Module):
    """A convolution with its batch norm folded in and "SAME" padding; optionally ReLU6 after it."""

    def __init__(self, conv: nn.Conv2d, bn: nn.BatchNorm2d, relu6: bool) -> None:
        super().__init__()
        w, b = _fold(conv, bn)
        self.weight = nn.Parameter(w, requires_grad=False)
        self.bias = nn.Parameter(b, requires_grad=False)
        self.k, self.s = conv.weight.shape[-1], conv.stride[0]
        self.groups, self.relu6 = conv.groups, relu6

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Convolve (padding as TensorFlow's SAME), then ReLU6 in place when set."""
        if self.k == 1 and self.s == 1 and self.groups == 1 and x.is_contiguous(memory_format=torch.channels_last):
            # a 1x1 convolution on channels-last memory is one matrix product over the pixels (N, H, W, C)
            y = F.linear(x.permute(0, 2, 3, 1), self.weight.flatten(1), self.bias).permute(0, 3, 1, 2)
            return y.clamp_(0.0, 6.0) if self.relu6 else y
        (t, bo), (le, r) = (_same_pad(n, self.k, self.s) for n in x.shape[-2:])
        if t == bo and le == r:
            y = F.conv2d(x, self.weight, self.bias, self.s, (t, le), 1, self.groups)
        else:
            y = F.conv2d(F.pad(x, (le, r, t, bo)), self.weight, self.bias, self.s, 0, 1, self.groups)
        return y.clamp_(0.0, 6.0) if self.relu6 else y


class _Block(nn.Module):
    """One MBConv block of EfficientNet-Lite (no squeeze-excitation): expand, depthwise, project, skip."""

    def __init__(self, block: nn.Module) -> None:
        super().__init__()
        args = block._block_args
        if block.has_se:
            raise ValueError("folded backbone: squeeze-excitation blocks are not supported (EfficientNet-Lite has none)")
        self.expand = _Conv(block._expand_conv, block._bn0, True) if args.expand_ratio != 1 else None
        self.depthwise = _Conv(block._depthwise_conv, block._bn1, True)
        self.project = _Conv(block._project_conv, block._bn2, False)
        self.skip = bool(block.id_skip and args.stride == 1 and args.input_filters == args.output_filters)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The block's output (eval mode: no drop-connect)."""
        y = self.project(self.depthwise(self.expand(x) if self.expand is not None else x))
        return y.add_(x) if self.skip else y


class FoldedBackbone(nn.Module):
    """EfficientNet-Lite0 with folded batch norms; `forward` gives the tapped stage outputs and the head map."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        if not isinstance(net._swish, nn.ReLU6):
            raise ValueError("folded backbone: only the ReLU6 (Lite) variants of EfficientNet are supported")
        self.stem = _Conv(net._conv_stem, net._bn0, True)
        self.blocks = nn.ModuleList(_Block(b) for b in net._blocks)
        self.head = _Conv(net._conv_head, net._bn1, True)

    def forward(self, x: torch.Tensor, taps: frozenset[int]) -> tuple[list[torch.Tensor], torch.Tensor]:
        """(N, 3, S, S) → (outputs of the blocks in ``taps``, in block order; the head's (N, 1280, h, w) map)."""
        x = self.stem(x)
        outs = []
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i in taps:
                outs.append(x)
        return outs, self.head(x)


def weights_version(net: nn.Module) -> tuple:
    """Changes whenever the backbone's tensors are replaced or modified in place (device, dtype, load_state_dict)."""
    return tuple((t.data_ptr(), t.device, t.dtype, t._version) for t in [*net.parameters(), *net.buffers()])
