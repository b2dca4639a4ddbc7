"""Scoring substitutions by recomputing only their cone of influence on top of a reference pass.

Between a reference sequence and the same sequence with bases v..v+m-1 substituted, activations
after layer k differ only within ``R_k`` bases of the change (``R_k``: the receptive half-width of
layers 1..k). Only outputs within ``d`` of the change are wanted, so layer k is needed only within
``d + R_total - R_k``. For each layer this module computes the alternative activations on the
smaller of the two ranges, reading everything outside it from the reference pass, which is shared
by all variants of a region. The arithmetic per position is the fast engine's, so results equal a
full alternative pass up to float rounding; the work is several times smaller.

Coordinates below are indexes into the reference input: the reference's activations are kept with
the input index of their first position, a batch of variants' with its offset from each variant's
start (the starts themselves live on the activations' device, copied there once per pass).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .cost import cone_widths
from .engine import FastNetwork, activate, conv_add_, conv_relu


@dataclass
class Span:
    """Activations ``values`` (batch or 1, channels, 1, width) covering input indexes [start, start + width):
    for the reference an index; for a batch of variants an offset from each variant's own start."""

    values: torch.Tensor
    start: int


def _gather(ref: Span, index: torch.Tensor, out: torch.Tensor) -> None:
    """Per variant i, the reference activations at input indexes [index_i, index_i + width) into
    ``out[i]`` ((n, width, channels) rows, may be a view): each variant's window is one contiguous
    block of position rows, copied whole by index_select (measured several times faster than
    advanced indexing, and it writes straight into ``out``). ``index`` is on the activations'
    device: a host index would cost a copy, and on a GPU a stream synchronisation, per gather."""
    rows = ref.values[0, :, 0].T.contiguous()  # (length, channels): channels-last, so a view
    length, channels = rows.shape
    width = out.shape[1]
    windows = rows.as_strided((length - width + 1, width, channels), (channels, channels, 1))
    torch.index_select(windows, 0, index - ref.start, out=out)


def _overlay(ref: Span, own: Span, starts: torch.Tensor, shift: int, width: int, view: bool = False) -> torch.Tensor:
    """Per variant (substitution at ``starts``, on the activations' device), reference activations on
    [starts + shift, starts + shift + width) with the variant's own activations laid over, as one new
    channels-last tensor (or the variant's own, uncopied, where they cover the range exactly, and with
    a batch of one also where they cover more; with ``view``, a view cropped along the length in any
    batch). Callers may write into the result: the variant's own are not needed after it.

    Each position is copied once: the variant's own into the middle, the flanks they do not cover
    gathered from the reference into their places.
    """
    values = own.values
    offset = own.start - shift  # where the variant's own begin in the window, the same for every variant
    lo, hi = max(offset, 0), min(offset + values.shape[-1], width)
    if lo == 0 and hi == width:
        kept = values[..., -offset : width - offset]
        return kept if view else kept.contiguous(memory_format=torch.channels_last)
    out = torch.empty(len(starts), width, values.shape[1], dtype=values.dtype, device=values.device)
    if hi > lo:
        out[:, lo:hi] = values[..., lo - offset : hi - offset].squeeze(2).transpose(1, 2)
    if lo > 0:
        _gather(ref, starts + shift, out[:, : min(lo, width)])
    if hi < width:
        _gather(ref, starts + shift + max(hi, 0), out[:, max(hi, 0) :])
    return out.transpose(1, 2).unsqueeze(2)  # (n, channels, 1, width), channels-last


@dataclass
class ReferencePass:
    """What the cone passes read from the reference, per block: its input, the first convolution's input
    (`activate`: ReLU(BatchNorm-1(input)), kept so that a cone pass activates only its own positions, as
    elementwise steps commute with the overlay; on our Triton kernel, which activates as it loads, the
    block's input itself) and the first convolution's output; and the one-hot input as (L, 4) float32
    rows, from which the first skip tap is taken (as the engine takes it)."""

    inputs: list[Span]
    activated: list[Span]
    hiddens: list[Span]
    bases: torch.Tensor


def reference_pass(net: FastNetwork, x: torch.Tensor) -> tuple[ReferencePass, torch.Tensor]:
    """The reference's activations for the cone passes, and its output (12, L - context)."""
    bases = x[0].T.float()
    x = x.to(net.compute_dtype).unsqueeze(2).contiguous(memory_format=torch.channels_last)
    conv = net.input_conv(x)
    inputs, activated, hiddens, start = [Span(conv, 0)], [], [], 0
    for block in net.blocks:
        half = block["crop"] // 2
        act = activate(conv, block)
        activated.append(Span(act, start))
        hidden = conv_relu(act, block)
        hiddens.append(Span(hidden, start + half))
        # a copy of the residual, added into in place (the arithmetic of the alternative passes and the
        # fused path): the block's input stays for the cone passes
        conv = conv[..., block["crop"] : conv.shape[-1] - block["crop"]].clone(memory_format=torch.channels_last)
        conv_add_(hidden, conv, block)
        start += block["crop"]
        inputs.append(Span(conv, start))
    width = x.shape[-1] - 2 * net.flank
    return ReferencePass(inputs, activated, hiddens, bases), _outputs(net, bases, inputs, net.flank, width)


def _outputs(net: FastNetwork, bases: torch.Tensor, inputs: list[Span], start_out: int, width: int) -> torch.Tensor:
    """Heads over the skip path at input indexes [start_out, start_out + width): (1, 12, width)."""
    skip = net._bases_tap(bases[None, start_out : start_out + width], net.tap_weights[0], net.tap_bias)
    for b, weight in zip(net.dense_after, net.tap_weights[1:], strict=True):
        lo = start_out - inputs[b].start
        skip += torch.matmul(inputs[b].values[..., lo : lo + width].squeeze(2).transpose(1, 2).float(), weight)
    return net.head_rows(skip).transpose(1, 2)


def alternative_pass(net: FastNetwork, reference: ReferencePass, x_alt: torch.Tensor,
                     starts: torch.Tensor, d: int) -> torch.Tensor:
    """Outputs (n, 12, m + 2d) for variants substituting ``x_alt`` (n, 4, m) at input ``starts``.

    Each convolution's output is computed on ``min(reach, d + total - reach)`` bases either side
    of the change (`cone_widths`): within ``reach`` it may differ from the reference, and beyond
    ``d + total - reach`` no wanted output depends on it. Its input is the reference activations
    with the variant's own laid over them. As on the fused path, the second convolution adds into
    the residual in place, so each skip-path tap is consumed as soon as it is made.
    """
    m = x_alt.shape[-1]
    inputs, activated, hiddens = reference.inputs, reference.activated, reference.hiddens
    starts = starts.to(x_alt.device)  # once per pass (spans below are offsets from these)
    # the first skip tap from the bases: the reference's around each change with the variant's laid over
    around = starts[:, None] + torch.arange(-d, m + d, device=starts.device)[None, :]
    bases = reference.bases[around]
    bases[:, d : d + m] = x_alt.transpose(1, 2)
    skip = net._bases_tap(bases, net.tap_weights[0], net.tap_bias)
    tap_weights = iter(net.tap_weights[1:])

    def add_tap(k: int, span: Span) -> None:  # the skip path's 1x1 convolution of block k's output
        rows = _overlay(inputs[k], span, starts, -d, m + 2 * d, view=True).squeeze(2).transpose(1, 2)
        skip.add_(torch.matmul(rows.float(), next(tap_weights)))

    x_alt = x_alt.to(net.compute_dtype).unsqueeze(2).contiguous(memory_format=torch.channels_last)
    alt = Span(net.input_conv(x_alt), 0)
    widths = cone_widths(net.config, d)
    for b, block in enumerate(net.blocks):
        half = block["crop"] // 2
        first, second = widths[b]
        # first convolution (BatchNorm 2 folded in), on relu(bn1(x)); elementwise ops commute with overlay
        own = Span(activate(alt.values, block), alt.start)
        window = _overlay(activated[b], own, starts, -first - half, m + 2 * (first + half))
        hidden = Span(conv_relu(window, block), -first)
        # second convolution added into the residual in place (a dense tensor: into a cropped view of
        # a batch, oneDNN rounds bfloat16 differently from the reference pass)
        window = _overlay(hiddens[b], hidden, starts, -second - half, m + 2 * (second + half))
        residual = _overlay(inputs[b], alt, starts, -second, m + 2 * second)
        conv_add_(window, residual, block)
        alt = Span(residual, -second)
        if b + 1 in net.dense_after:
            add_tap(b + 1, alt)
    return net.head_rows(skip).transpose(1, 2)
