"""What a GPU offers the engine: whether our Triton convolution (triton_conv.py) beats cuDNN on a residual
block, per shape and dtype.

Measured, never assumed: the first time the engine meets a block shape (kernel, dilation) in a dtype on a
device, `use_triton` times that block's convolutions both ways on the block's own input (cuDNN: the
BatchNorm-1 + ReLU pass, convolution + bias + ReLU, convolution + bias added into the residual; ours: the
two fused calls), calls of the two interleaved, and keeps the faster for the rest of the process. Not
remembered on disk: the answer depends on the card, the driver, the libraries and the input's size, and
Triton's autotuner, which runs on that first call, tunes the kernel for that size. Without the `triton`
package, or on a card older than Ampere, cuDNN is used without a measurement.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from types import ModuleType

import torch

PROBE_ROUNDS = 5  # interleaved timed calls of each (after one untimed call, which compiles and autotunes)
PROBE_SECONDS = 0.05  # ... or more rounds until this much time has passed
MIN_CAPABILITY = (8, 0)  # bfloat16 tensor-core products in Triton need Ampere or newer

TRITON_MISSING = "kernel triton needs the `triton` package: pip install -e '.[triton]' (or use --kernel cudnn)"

_chosen: dict[tuple, bool] = {}  # (kernel, dilation, dtype, device) -> our kernel was faster


@functools.cache
def triton_conv() -> ModuleType | None:
    """Our Triton convolution module, or None where the `triton` package is not installed."""
    try:
        from . import triton_conv as module
    except ImportError:
        return None
    return module


def triton_available() -> bool:
    return triton_conv() is not None


def use_triton(key: tuple, device: torch.device, block_calls: Callable[[], dict[str, Callable[[], object]]]) -> bool:
    """Whether the block shape and dtype in ``key`` run on our kernel on ``device`` ("auto"): measured
    once per process and ``key`` with the two calls ``block_calls()`` makes (``"cudnn"``, ``"triton"``)."""
    key = (*key, device)
    if key not in _chosen:
        measurable = triton_available() and torch.cuda.get_device_capability(device) >= MIN_CAPABILITY
        if measurable:
            times = best_times(block_calls(), device)
            _chosen[key] = times["triton"] < times["cudnn"]
        else:
            _chosen[key] = False
    return _chosen[key]


def chosen() -> dict[tuple, bool]:
    """What `use_triton` chose so far in this process (for reports and tests)."""
    return dict(_chosen)


def best_times(calls: dict[str, Callable[[], object]], device: torch.device) -> dict[str, float]:
    """Each call's best GPU time in seconds (CUDA events), after one untimed call of each; calls interleaved
    for `PROBE_ROUNDS` rounds or `PROBE_SECONDS` of wall time, whichever is longer."""
    best = dict.fromkeys(calls, float("inf"))
    with torch.cuda.device(device):
        for call in calls.values():
            call()
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        rounds, until = 0, time.perf_counter() + PROBE_SECONDS
        while rounds < PROBE_ROUNDS or time.perf_counter() < until:
            for name, call in calls.items():
                start.record()
                call()
                stop.record()
                stop.synchronize()
                best[name] = min(best[name], start.elapsed_time(stop) / 1e3)
            rounds += 1
    return best
