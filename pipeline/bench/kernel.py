"""What this machine's kernels can do: CPU features and the conv kernel rate on the network's shapes.

The engine's executed FLOP/s means little alone (machines differ several-fold); divided by the
rate of the very convolution kernel it calls, on the network's own shapes, measured in the same
run, it says how much of the hardware the engine uses.
"""

from __future__ import annotations

import os
import time
from collections import Counter

import torch
import torch.nn.functional as F

from ..model import own_kernel
from ..model.allocator import keep_freed_memory
from ..model.config import ModelConfig
from ..model.cpu import bf16_speedup, conv_times, cpu_model, native_bf16, onednn_bf16


def owned_cores() -> int:
    """Cores this process may run on (its CPU affinity: a SLURM job's or a container's share)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def describe_machine(device: str) -> list[str]:
    """Lines naming the machine: CPU or GPU, threads, vector ISA, native bfloat16, load average."""
    if device.startswith("cuda"):
        lines = [f"device: {torch.cuda.get_device_name(torch.device(device))} (torch {torch.__version__}), "
                 f"CPU side {torch.get_num_threads()} threads"]
    else:
        bf16 = native_bf16()
        if not onednn_bf16():
            native = "unsupported (oneDNN has no bfloat16 convolutions here)"
        else:  # the measured ratio is what load_ensemble's warning goes by
            native = f"native ({', '.join(bf16)})" if bf16 else "emulated (no AVX512_BF16 or AMX)"
            native += f", {bf16_speedup():.1f}x float32's speed on the network's convolution (measured)"
        lines = [f"machine: {cpu_model()}, {owned_cores()} cores owned, {torch.get_num_threads()} torch threads, "
                 f"{torch.backends.cpu.get_cpu_capability()}; bfloat16: {native}"]
        capped = [f"{name}={os.environ[name]}" for name in own_kernel.ISA_CAPS if os.environ.get(name)]
        if capped:  # a smaller machine class emulated on this one: its kernels, not this CPU's best
            lines[0] += f"; capped by {', '.join(capped)}"
    return lines + [f"load average (1 min) at start: {load_average():.2f}"]


def load_average() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def conv_kernel_rate(dtype: torch.dtype, device: str = "cpu", length: int = 110_000, repeats: int = 3,
                     config: ModelConfig | None = None, batch: int = 1) -> tuple[float, float]:
    """FLOP/s of plain conv2d (channels-last, with bias) over one network's 32 trunk convolutions
    (hidden -> hidden channels, each block's kernel and dilation) on ``batch`` x ``length`` input
    positions: per second of wall-clock time and per second of this process's CPU time (all
    threads; on a shared machine the CPU-time rate is steadier), best of ``repeats``. This is the
    kernel the fast engine calls, at the engine's own batch and window."""
    config = config or ModelConfig()
    torch_device = torch.device(device)
    h = config.hidden
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(batch, h, 1, length, generator=gen).to(torch_device, dtype)
    x = x.contiguous(memory_format=torch.channels_last)
    layers = []
    for kernel, dilation in config.block_specs:
        w = (0.05 * torch.randn(h, h, 1, kernel, generator=gen)).to(torch_device, dtype)
        bias = torch.zeros(h, dtype=dtype, device=torch_device)
        layers.append((w.contiguous(memory_format=torch.channels_last), bias, dilation))
    macs = batch * sum(2 * h * h * w.shape[-1] * (length - d * (w.shape[-1] - 1)) for w, _, d in layers)
    best, best_cpu = float("inf"), float("inf")
    with torch.inference_mode():
        for attempt in range(repeats + 1):  # the first round creates the primitives: not timed
            _sync(torch_device)
            start, start_cpu = time.perf_counter(), time.process_time()
            for w, b, d in layers:
                for _ in range(2):
                    F.conv2d(x, w, b, dilation=(1, d))
            _sync(torch_device)
            if attempt:
                best = min(best, time.perf_counter() - start)
                best_cpu = min(best_cpu, time.process_time() - start_cpu)
    return 2 * macs / best, 2 * macs / best_cpu


def own_kernel_table(dtype: torch.dtype = torch.float32, length: int = 100_000, seconds: float = 0.5,
                     config: ModelConfig | None = None) -> list[str]:
    """Our CPU kernel against oneDNN on each trunk shape (ReLU fused in both, ``dtype``, the engine's
    layout, ``length`` output positions, this process's threads), beside the machine's measured float32
    fused multiply-add peak: GFLOP/s, % of that peak, and the ratio; MAC-weighted over the network's 32
    convolutions. Calls alternate for about ``seconds`` a shape (`cpu.conv_times`); freed memory is
    kept, as `load_ensemble` does (else both would pay page faults for each output)."""
    config = config or ModelConfig()
    name = str(dtype).removeprefix("torch.")
    if not own_kernel.available(dtype):
        return [f"our CPU kernel in {name}: not built here (no C compiler at install) or not for this CPU"]
    keep_freed_memory()
    peak = own_kernel.fma_peak()
    isa = own_kernel.ISA_NAMES[own_kernel.instruction_set()]
    lines = [f"{name} kernels; float32 FMA peak (measured, {isa}, {torch.get_num_threads()} threads): "
             f"{peak / 1e9:,.0f} GFLOP/s",
             f"{'shape':<10}{'layers':>7}{'oneDNN':>9}{'%peak':>7}{'own':>9}{'%peak':>7}{'own/oneDNN':>12}"]
    counts = Counter(config.block_specs)
    network = {"onednn": 0.0, "own": 0.0}  # seconds of the network's 32 convolutions
    total_flop = 0.0
    for (size, dilation), blocks in sorted(counts.items()):
        best = conv_times(size, dilation, dtype, length, seconds)
        flop = 2 * 32 * 32 * size * length
        layers = 2 * blocks  # two convolutions a block
        total_flop += layers * flop
        for kernel in network:
            network[kernel] += layers * best[kernel]
        lines.append(_kernel_row(f"k{size} d{dilation}", layers, {k: flop / t for k, t in best.items()}, peak))
    totals = {kernel: total_flop / t for kernel, t in network.items()}
    return lines + [_kernel_row("network", 2 * sum(counts.values()), totals, peak) + "  (MAC-weighted)"]


def _kernel_row(label: str, layers: int, rate: dict[str, float], peak: float) -> str:
    onednn_rate, own_rate = rate["onednn"], rate["own"]
    return (f"{label:<10}{layers:>7}{onednn_rate / 1e9:>9,.0f}{onednn_rate / peak:>7.0%}{own_rate / 1e9:>9,.0f}"
            f"{own_rate / peak:>7.0%}{own_rate / onednn_rate:>11.2f}x")
