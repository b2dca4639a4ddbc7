"""The model's named choices (ensembles, engines, compute dtypes, CPU kernels), checked in one place.

Torch-free, so that the config and the command line can validate and show defaults without
importing torch.
"""

from __future__ import annotations

from ..errors import ConfigError

ENSEMBLES = ("official", "specialised")
ENGINES = ("reference", "fast")
DTYPE_NAMES = ("float32", "bfloat16", "float16")  # compute dtypes of the trunk (float16: GPUs only)
# the float32 CPU convolutions: chosen per shape by measurement, or forced (model/cpu.py use_own_kernel)
CPU_KERNELS = ("auto", "onednn", "own")


def check_choice(key: str, value: str, allowed: tuple[str, ...]) -> str:
    """``value`` if it is one of ``allowed``; else a `ConfigError` naming ``key`` and the choices."""
    if value not in allowed:
        raise ConfigError(f"{key} must be one of {', '.join(allowed)}; got {value!r}")
    return value
