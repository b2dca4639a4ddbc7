"""What this CPU offers the engine: its feature flags, and whether bfloat16 pays off on it.

Measured with oneDNN on the network's own convolutions (2 threads, one Sapphire Rapids-class CPU,
oneDNN capped to each instruction set with ONEDNN_MAX_CPU_ISA): bfloat16 runs at 8.5x float32's
rate with AMX, 0.7x with AVX512_BF16 alone, 0.2x with AVX-512 alone and 0.06x with AVX2 (emulated).
So bfloat16 is worth choosing on a CPU only where oneDNN can use AMX; without AVX-512 (BW, VL, DQ) or
AVX-NE-CONVERT oneDNN refuses bfloat16 convolutions altogether.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

# CPU flags (Linux /proc/cpuinfo names) that give native bfloat16 arithmetic to oneDNN
BF16_FLAGS = ("avx512_bf16", "amx_bf16", "amx_tile")
# environment variables that cap the instruction sets oneDNN and ATen use (to measure a smaller machine class)
ISA_CAPS = ("ONEDNN_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY")
BF16_WITHOUT_AMX = ("bfloat16 on this CPU runs without AMX, where oneDNN's bfloat16 convolutions are slower than "
                    "float32's (measured on the network's shapes: 0.7x with AVX512_BF16, 0.2x with AVX-512 alone, "
                    "0.06x with AVX2); use float32")


def cpu_flags() -> set[str]:
    """The CPU's feature flags from /proc/cpuinfo (empty where there is none, e.g. macOS)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def native_bf16(flags: set[str] | None = None) -> list[str]:
    """The native bfloat16 features this CPU has (AVX512_BF16, AMX); empty: bfloat16 is emulated."""
    flags = cpu_flags() if flags is None else flags
    return [f for f in BF16_FLAGS if f in flags]


def amx_for_bf16(flags: set[str] | None = None) -> bool:
    """Whether oneDNN may run bfloat16 convolutions on AMX here: the CPU has it and ONEDNN_MAX_CPU_ISA
    does not cap it away."""
    flags = cpu_flags() if flags is None else flags
    cap = os.environ.get("ONEDNN_MAX_CPU_ISA", "").upper()
    return "amx_bf16" in flags and (cap in ("", "ALL", "DEFAULT") or "AMX" in cap)


def onednn_bf16() -> bool:
    """Whether oneDNN runs bfloat16 convolutions on this CPU (torch raises a RuntimeError otherwise)."""
    supported = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    return bool(supported is not None and torch.backends.mkldnn.is_available() and supported())
