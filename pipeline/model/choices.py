"""The model's named choices (ensembles, engines, compute dtypes, convolution kernels), checked in one place.

Torch-free, so that the config and the command line can validate and show defaults without
importing torch.
"""

from __future__ import annotations

from ..errors import ConfigError

ENSEMBLES = ("official", "specialised")
ENGINES = ("reference", "fast")
DTYPE_NAMES = ("float32", "bfloat16", "float16")  # compute dtypes of the trunk (float16: GPUs only)
# The trunk convolutions' kernel. "auto": on each device the one measured faster per shape and dtype (CPU:
# ours or oneDNN, model/cpu.py use_own_kernel; CUDA: our Triton kernel or cuDNN, model/gpu.py use_triton);
# the others force one, and each is for one kind of device only (model/device.py check_kernel)
CPU_KERNELS = ("auto", "onednn", "own")
GPU_KERNELS = ("auto", "cudnn", "triton")
KERNELS = ("auto", "onednn", "own", "cudnn", "triton")


def check_choice(key: str, value: str, allowed: tuple[str, ...]) -> str:
    """``value`` if it is one of ``allowed``; else a `ConfigError` naming ``key`` and the choices."""
    if value not in allowed:
        raise ConfigError(f"{key} must be one of {', '.join(allowed)}; got {value!r}")
    return value
