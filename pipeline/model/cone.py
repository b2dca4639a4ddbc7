"""Scoring substitutions by recomputing only their cone of influence on top of a reference pass.

Between a reference sequence and the same sequence with bases v..v+m-1 substituted, activations
after layer k differ only within ``R_k`` bases of the change (``R_k``: the receptive half-width of
layers 1..k). Only outputs within ``d`` of the change are wanted, so layer k is needed only within
``d + R_total - R_k``. For each layer this module computes the alternative activations on the
smaller of the two ranges, reading everything outside it from the reference pass, which is shared
by all variants of a region. The arithmetic per position is the fast engine's, so results equal a
full alternative pass up to float rounding; the work is several times smaller.

Coordinates below are indexes into the reference input; every activation is kept with the input
index of its first position.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .engine import FastNetwork
from .network import apply_heads


@dataclass
class Span:
    """Activations ``values`` (batch or 1, channels, 1, width) covering input indexes [start, start + width)."""

    values: torch.Tensor
    start: torch.Tensor | int  # per-variant starts (tensor) or one start (int) for the reference


def _gather(ref: Span, starts: torch.Tensor, width: int) -> torch.Tensor:
    """Per variant, the reference activations at input indexes [starts_i, starts_i + width)."""
    index = (starts - ref.start)[:, None] + torch.arange(width)[None, :]  # (n, width)
    values = ref.values[0, :, 0]  # (channels, length)
    return values[:, index].permute(1, 0, 2).unsqueeze(2)  # (n, channels, 1, width)


def _overlay(ref: Span, alt: Span, starts: torch.Tensor, width: int) -> torch.Tensor:
    """Reference activations on [starts, starts + width) with the variant's own activations laid over."""
    base = _gather(ref, starts, width).clone()
    offset = int((alt.start - starts)[0])  # the same for every variant of a batch
    lo, hi = max(offset, 0), min(offset + alt.values.shape[-1], width)
    if hi > lo:
        base[..., lo:hi] = alt.values[..., lo - offset : hi - offset]
    return base.contiguous(memory_format=torch.channels_last)


def reference_pass(net: FastNetwork, x: torch.Tensor) -> tuple[list[Span], list[Span], torch.Tensor]:
    """Block inputs and first-conv activations of the reference, and its output (12, L - context)."""
    x = x.to(net.compute_dtype).unsqueeze(2).contiguous(memory_format=torch.channels_last)
    conv = F.conv2d(x, net.w_in, net.b_in)
    inputs, hiddens, start = [Span(conv, 0)], [], 0
    for block in net.blocks:
        half = block["crop"] // 2
        act = torch.relu(conv * block["scale1"] + block["shift1"])
        hidden = torch.relu(F.conv2d(act, block["w1"], block["b1"], dilation=(1, block["dilation"])))
        hiddens.append(Span(hidden, start + half))
        out = F.conv2d(hidden, block["w2"], block["b2"], dilation=(1, block["dilation"]))
        conv = conv[..., block["crop"] : conv.shape[-1] - block["crop"]] + out
        start += block["crop"]
        inputs.append(Span(conv, start))
    return inputs, hiddens, _outputs(net, inputs, net.flank, x.shape[-1] - 2 * net.flank)


def _outputs(net: FastNetwork, inputs: list[Span], start_out, width: int, n: int | None = None) -> torch.Tensor:
    """Heads over the skip path at input indexes [start_out, start_out + width) (per variant if n)."""
    def at(span: Span) -> torch.Tensor:
        if n is None:
            lo = start_out - span.start
            return span.values[..., lo : lo + width].squeeze(2).float()
        return span.values.squeeze(2).float()

    skip = net.skip(at(inputs[0]))
    dense = iter(net.convs)
    for b in net.dense_after:
        skip = skip + next(dense)(at(inputs[b]))
    return apply_heads(net.head_list, skip)


def alternative_pass(net: FastNetwork, inputs: list[Span], hiddens: list[Span], x_alt: torch.Tensor,
                     starts: torch.Tensor, d: int) -> torch.Tensor:
    """Outputs (n, 12, m + 2d) for variants substituting ``x_alt`` (n, 4, m) at input ``starts``.

    Each convolution's output is computed on ``min(reach, d + total - reach)`` bases either side
    of the change: within ``reach`` it may differ from the reference, and beyond
    ``d + total - reach`` no wanted output depends on it. Its input is the reference activations
    with the variant's own laid over them.
    """
    m = x_alt.shape[-1]
    x_alt = x_alt.to(net.compute_dtype).unsqueeze(2).contiguous(memory_format=torch.channels_last)
    alt = Span(F.conv2d(x_alt, net.w_in, net.b_in), starts)
    alt_inputs, reach = [alt], 0
    for b, block in enumerate(net.blocks):
        half, dilation = block["crop"] // 2, (1, block["dilation"])
        # first convolution (BatchNorm 2 folded in), on relu(bn1(x)); elementwise ops commute with overlay
        reach += half
        width = min(reach, d + net.flank - reach)
        window = _overlay(inputs[b], alt, starts - width - half, m + 2 * (width + half))
        window = torch.relu(window * block["scale1"] + block["shift1"])
        hidden = Span(torch.relu(F.conv2d(window, block["w1"], block["b1"], dilation=dilation)), starts - width)
        # second convolution plus the residual
        reach += half
        width = min(reach, d + net.flank - reach)
        window = _overlay(hiddens[b], hidden, starts - width - half, m + 2 * (width + half))
        out = F.conv2d(window, block["w2"], block["b2"], dilation=dilation)
        alt = Span(_overlay(inputs[b], alt, starts - width, m + 2 * width) + out, starts - width)
        alt_inputs.append(alt)
    taps = [Span(_overlay(inputs[k], alt_inputs[k], starts - d, m + 2 * d), starts - d) for k in range(len(inputs))]
    return _outputs(net, taps, None, m + 2 * d, n=len(starts))
