"""Multiply-accumulates each engine executes, so benchmarks can report executed FLOP/s.

"Useful" work is ``ModelConfig.mac_per_position`` per scored base (the trunk convolutions at the
scored positions only). Engines execute more: the fast engine computes each layer on the positions
later layers still need (the scored window plus the context it shrinks into), the reference engine
computes every layer on its whole padded 15 kb input, and the cone path recomputes each layer on a
few bases around each change. Counted here: every convolution and matmul (trunk, 1x1 skip path,
heads); not counted: elementwise work (BatchNorm scale/shift, ReLU, softmax), which is memory traffic.
"""

from __future__ import annotations

from .config import ModelConfig


def _dense_taps(config: ModelConfig) -> int:
    """1x1 convolutions feeding the skip path: the skip itself plus one after every 4th block."""
    n = len(config.block_specs)
    return 1 + sum(1 for b in range(1, n + 1) if b % config.dense_every == 0 or b == n)


def _heads_and_skip(config: ModelConfig, positions: int) -> int:
    """MACs of the skip path and the heads at ``positions`` output positions."""
    h = config.hidden
    return positions * (_dense_taps(config) * h * h + h * config.n_channels)


def fast_window_macs(config: ModelConfig, n_out: int) -> int:
    """MACs of one fast-engine pass scoring ``n_out`` bases (valid convolutions on n_out + context)."""
    h, length = config.hidden, n_out + config.context
    macs = 4 * h * length
    for kernel, dilation in config.block_specs:
        for _ in range(2):  # each valid convolution shortens the activations by dilation * (kernel - 1)
            length -= dilation * (kernel - 1)
            macs += h * h * kernel * length
    return macs + _heads_and_skip(config, n_out)


def reference_window_macs(config: ModelConfig, n_out: int) -> int:
    """MACs of one reference pass: 'same' convolutions over all n_out + context input positions."""
    h, length = config.hidden, n_out + config.context
    macs = 4 * h * length + sum(2 * h * h * k * length for k, _ in config.block_specs)
    return macs + _dense_taps(config) * h * h * length + h * config.n_channels * n_out


def split_windows(n_out: int, window: int) -> tuple[int, int]:
    """(windows, width): the fewest windows of at most ``window`` outputs that cover ``n_out``, all of
    one width, so the last is padded by fewer than ``windows`` bases (not up to a whole window:
    110 kb in 100 kb windows is 2 x 55 kb, not 2 x 100 kb)."""
    count = -(-n_out // window)
    return count, -(-n_out // count)


def scoring_macs(config: ModelConfig, engine: str, n_out: int, window: int) -> int:
    """MACs one network executes to score ``n_out`` bases in windows of at most ``window`` outputs."""
    per_window = fast_window_macs if engine == "fast" else reference_window_macs
    count, width = split_windows(n_out, window)
    return count * per_window(config, width)


def cone_widths(config: ModelConfig, d: int) -> list[tuple[int, int]]:
    """Per block, the bases either side of a change on which the cone path computes its two
    convolutions: ``min(reach, d + flank - reach)`` (see cone.py)."""
    widths, reach = [], 0
    for kernel, dilation in config.block_specs:
        half = dilation * (kernel - 1) // 2
        reach += half
        first = min(reach, d + config.flank - reach)
        reach += half
        widths.append((first, min(reach, d + config.flank - reach)))
    return widths


def cone_widest_input(config: ModelConfig, d: int) -> int:
    """The widest input window a cone pass convolves for a one-base substitution (the shape at which
    its convolution kernel is measured)."""
    return max(1 + 2 * (max(first, second) + dilation * (kernel - 1) // 2)
               for (kernel, dilation), (first, second) in zip(config.block_specs, cone_widths(config, d)))


def cone_macs(config: ModelConfig, m: int, d: int) -> int:
    """MACs of one network's cone-of-influence pass for one substitution of ``m`` bases
    (outputs within ``d`` of it), on top of a shared reference pass."""
    h = config.hidden
    macs = 4 * h * m
    for (kernel, _), (first, second) in zip(config.block_specs, cone_widths(config, d)):
        macs += h * h * kernel * (2 * m + 2 * first + 2 * second)
    return macs + _heads_and_skip(config, m + 2 * d)
