"""Our own CPU kernel for the network's 32 -> 32 channel dilated convolutions (csrc/dilated_conv.c).

A register-blocked kernel written for exactly these shapes (a tile of positions x all 32 output
channels in vector registers, one broadcast per input value and tap), in float32 (AVX-512 or AVX2 +
FMA) or bfloat16 (AVX512_BF16 dot products), on position-major rows (the engine's channels-last
(batch, 32, 1, L) tensors); each output is stored once with its bias, its ReLU or its residual add.
Whether it beats oneDNN depends on the machine (level on this project's AVX-512 Xeon, measured in
docs/engine.md), so the engine takes it by measurement (`cpu.use_own_kernel`). It is compiled at
install time (setup.py) when a C compiler is present; without one the engine runs on oneDNN and
says so once.
"""

from __future__ import annotations

import functools
import os
import warnings

import torch

try:
    from . import _dilated_conv
except ImportError:  # built without a C compiler: the engine keeps oneDNN
    _dilated_conv = None

CHANNELS = 32
STORE, STORE_RELU, ADD = 0, 1, 2
AVX2, AVX512, AVX512_BF16 = 1, 2, 3
ISA_NAMES = {AVX2: "AVX2 + FMA", AVX512: "AVX-512", AVX512_BF16: "AVX-512 + AVX512_BF16"}
DTYPES = (torch.float32, torch.bfloat16)
# environment variables that cap the instruction sets oneDNN and ATen use (to measure a smaller machine class)
ISA_CAPS = ("ONEDNN_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY")


@functools.cache
def instruction_set() -> int:
    """The kernel version this process runs: the CPU's best (0 none, AVX2, AVX512, AVX512_BF16), capped
    as oneDNN and ATen are by ``ONEDNN_MAX_CPU_ISA`` / ``ATEN_CPU_CAPABILITY`` (to measure a smaller
    machine class on this one: all kernels then run with the same instruction sets)."""
    if _dilated_conv is None:
        return 0
    caps = [_cap(os.environ.get(name, "")) for name in ISA_CAPS]
    return min([_dilated_conv.best_isa(), *(cap for cap in caps if cap is not None)])


def _cap(name: str) -> int | None:
    """The kernel version allowed under an ISA cap (oneDNN's or ATen's name for it); None: no cap."""
    name = name.lower()
    if not name or name.startswith(("avx512_core_bf16", "avx512_core_amx", "avx10", "all")):
        return None
    if name.startswith("avx512"):
        return AVX512
    if name.startswith("avx2"):
        return AVX2
    return 0  # SSE, AVX without FMA, ATen's "default"


@functools.cache
def available(dtype: torch.dtype = torch.float32) -> bool:
    """Whether this process can run the kernel in ``dtype`` (bfloat16 needs AVX512_BF16); says once
    why not where the build is missing."""
    if _dilated_conv is None:
        warnings.warn("our CPU convolution kernel was not built (no C compiler at install time): "
                      "the engine runs on oneDNN", stacklevel=2)
        return False
    return instruction_set() >= (AVX512_BF16 if dtype == torch.bfloat16 else AVX2) and dtype in DTYPES


def pack(weight: torch.Tensor) -> torch.Tensor:
    """A (out, in, 1, k) convolution weight as the kernel reads it, in its dtype: float32 as (k, in, out);
    bfloat16 as (k, in / 2, out x 2), the pairs of input channels each dot product takes. Three
    dimensions, so that nothing takes it for a convolution weight to make channels-last."""
    rows = weight.detach()[:, :, 0, :].permute(2, 1, 0)  # (k, in, out)
    if weight.dtype == torch.bfloat16:
        k, inputs, outputs = rows.shape
        rows = rows.reshape(k, inputs // 2, 2, outputs).transpose(2, 3).reshape(k, inputs // 2, 2 * outputs)
    return rows.contiguous()


def fits(t: torch.Tensor) -> bool:
    """Whether ``t`` is what the kernel reads and writes: float32 or bfloat16 CPU rows of 32 channels,
    position-major ((batch, 32, 1, L) channels-last, or a view of one cropped along its length)."""
    return (t.dtype in DTYPES and t.device.type == "cpu" and t.dim() == 4 and t.shape[1] == CHANNELS
            and t.stride(1) == 1 and (t.stride(3) == CHANNELS or t.shape[3] == 1))


def _rows(t: torch.Tensor, name: str) -> int:
    """The item stride (elements) of a tensor that `fits`."""
    if not fits(t):
        raise ValueError(f"{name} must be float32 or bfloat16 CPU rows (batch, {CHANNELS}, 1, L), channels-last")
    return t.stride(0)


def conv(x: torch.Tensor, packed: torch.Tensor, bias: torch.Tensor, dilation: int, relu: bool = False,
         add_into: torch.Tensor | None = None) -> torch.Tensor:
    """``conv(x) + bias`` (valid, stride 1), with ``relu`` its ReLU, or with ``add_into`` added into that
    tensor in place (a view cropped along its length is fine) and returned.

    ``x``: float32 or bfloat16 (batch, 32, 1, L) channels-last (a cropped view too); ``packed``: from
    `pack`, in x's dtype; ``bias``: float32 (32,). The output is in x's dtype (bfloat16: float32 sums
    rounded once). Split over ``torch.get_num_threads()`` threads.
    """
    if packed.dtype != x.dtype or bias.dtype != torch.float32 or (add_into is not None and add_into.dtype != x.dtype):
        raise ValueError("the weights (and add_into) must be in x's dtype, the bias float32")
    if not (packed.is_contiguous() and bias.is_contiguous()):
        raise ValueError("the packed weights and the bias must be contiguous (see pack)")
    kernel = packed.shape[0]
    batch, length = x.shape[0], x.shape[-1]
    out_len = length - (kernel - 1) * dilation
    if out_len < 0:
        raise ValueError(f"input of {length} positions is shorter than the kernel's span")
    x_item = _rows(x, "x")
    if add_into is None:
        out = torch.empty(batch, CHANNELS, 1, out_len, dtype=x.dtype, memory_format=torch.channels_last)
        mode = STORE_RELU if relu else STORE
    else:
        out, mode = add_into, ADD
        if out.shape != (batch, CHANNELS, 1, out_len):
            raise ValueError(f"add_into has shape {tuple(out.shape)}, the convolution gives "
                             f"{(batch, CHANNELS, 1, out_len)}")
    out_item = _rows(out, "out")
    _dilated_conv.conv(x.data_ptr(), x_item, batch, length, packed.data_ptr(), bias.data_ptr(), kernel, dilation,
                       out.data_ptr(), out_item, mode, instruction_set(), torch.get_num_threads(),
                       x.dtype == torch.bfloat16)
    return out


def fma_peak(threads: int | None = None, seconds: float = 0.2) -> float:
    """The FLOP/s of independent fused multiply-adds at this process's instruction set on ``threads``
    threads (default: torch's), best of a few runs of about ``seconds`` in all: the machine's ceiling
    for any float32 kernel."""
    threads = threads or torch.get_num_threads()
    isa, lanes = instruction_set(), 16 if instruction_set() >= AVX512 else 8
    iterations = 1_000_000
    elapsed, _ = _dilated_conv.fma_peak(iterations, isa, threads)
    iterations = max(1000, int(iterations * seconds / 5 / max(elapsed, 1e-6)))
    best = min(_dilated_conv.fma_peak(iterations, isa, threads)[0] for _ in range(5))
    return threads * iterations * 12 * lanes * 2 / best
