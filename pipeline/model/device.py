"""What this machine can compute, and how much to give it at once: the device, dtype and kernel checks
every command makes before loading a model, and window and batch sizes from a memory budget."""

from __future__ import annotations

import torch

from ..errors import ConfigError
from . import cpu, gpu
from .choices import CPU_KERNELS, DTYPE_NAMES, GPU_KERNELS, KERNELS, check_choice

REFERENCE_WINDOW = 5_000  # output bases per window in the official tools
CPU_WINDOW = 100_000  # measured: 20/50/100/200 kb windows ran at 0.78/0.89/1.00/1.03x
# Bytes of activations per (window position x batch) in the fast engine: a handful of live
# (hidden x position) tensors plus allocator slack for hidden = 32 (an estimate: about 9 live
# float32 tensors of 128 bytes per position).
_BYTES_PER_POSITION = 1_200


def auto_window(engine: str, memory_bytes: int, context: int, device: torch.device) -> tuple[int, int]:
    """(window, batch) for an engine within a memory budget for activations.

    On CPU one long window at a time (the fused CPU path runs batch 1; the conv kernel's rate does
    not depend on batch, and longer windows pay the 10 kb of context less often); on GPU the budget
    is filled with a batch of windows.
    """
    if engine == "reference":
        return REFERENCE_WINDOW, 1
    if device.type == "cpu":
        return min(CPU_WINDOW, max(memory_bytes // _BYTES_PER_POSITION - context, context)), 1
    positions = max(memory_bytes // _BYTES_PER_POSITION, 2 * context)
    window = int(min(max(positions - context, context), 100_000))
    batch = max(1, positions // (window + context))
    return window, batch


def resolve_device(device: str) -> torch.device:
    """``device`` as a torch device this process can use; `ConfigError` (one line) otherwise."""
    try:
        torch_device = torch.device(device)
    except RuntimeError:
        raise ConfigError(f"device {device!r} is not a torch device (try cpu, cuda, cuda:1)") from None
    if torch_device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {device!r}: this torch ({torch.__version__}) sees no CUDA GPU; use --device cpu")
    return torch_device


def check_compute(dtype: str, device: str) -> torch.device:
    """The torch device, if this machine can compute in ``dtype`` on it; else a one-line `ConfigError`."""
    check_choice("dtype", dtype, DTYPE_NAMES)
    torch_device = resolve_device(device)
    if dtype == "float16" and torch_device.type == "cpu":
        raise ConfigError("dtype float16 is for GPUs; on CPU use bfloat16 or float32")
    if dtype == "bfloat16" and torch_device.type == "cpu" and not cpu.onednn_bf16():
        raise ConfigError("dtype bfloat16: oneDNN has no bfloat16 convolutions on this CPU (they need AVX-512 "
                          "BW/VL/DQ or AVX-NE-CONVERT); use float32")
    return torch_device


def check_kernel(kernel: str, device: torch.device) -> tuple[str, str]:
    """The engine's (CPU kernel, GPU kernel) for a user's ``--kernel`` on ``device``: "auto" measures on
    each device (`cpu.use_own_kernel`, `gpu.use_triton`); onednn and own are CPU kernels, cudnn and triton
    GPU kernels, and a name for the other kind of device is a one-line `ConfigError`, never a fallback.

    Raises
    ------
    ConfigError
        For an unknown name, a name for the other kind of device, or triton where it is not installed.
    """
    check_choice("kernel", kernel, KERNELS)
    on_cpu = device.type == "cpu"
    if on_cpu and kernel not in CPU_KERNELS:
        raise ConfigError(f"kernel {kernel} is a GPU kernel; on CPU use {', '.join(CPU_KERNELS)}")
    if not on_cpu and kernel not in GPU_KERNELS:
        raise ConfigError(f"kernel {kernel} is a CPU kernel; on {device} use {', '.join(GPU_KERNELS)}")
    if kernel == "triton" and not gpu.triton_available():
        raise ConfigError(gpu.TRITON_MISSING)
    return (kernel, "auto") if on_cpu else ("onednn", kernel)
