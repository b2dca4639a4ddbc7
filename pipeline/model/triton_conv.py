"""The residual block's dilated convolution as a Triton kernel of our own (GPU; CPU only interpreted).

One kernel computes, for tensors in the fast engine's (batch, channels, 1, length) channels-last
convention (position-major memory), a valid (unpadded) dilated convolution as an implicit GEMM: each
program takes a strip of ``BLOCK`` output positions, and for every tap ``t`` loads the input rows
``positions + t * dilation`` (BLOCK x channels; the strip and its (k - 1) * dilation halo are reread
from cache, not memory) and multiplies them by that tap's (channels x channels) weight with one
``tl.dot``, accumulating in float32. Optional, fused:

- on load, the block's BatchNorm-1 and ReLU: ``ReLU(x * in_scale + in_shift)`` per input channel;
- on store, the bias and a ReLU, or a residual accumulate ``out += conv + bias`` into a view.

float16, bfloat16 and float32. float32 products use ``input_precision="ieee"``: true float32, never
TF32. On CUDA the tile size, warps and pipeline stages are autotuned per shape (kernel, dilation,
fusion, dtype) at its first call in a process, at that call's size (the engine's first window; not
cached on disk, where a small first call, as in the tests, would choose for every later run).

How the engine calls it (pipeline/model/engine.py, with ``--kernel triton``, or with ``auto`` on CUDA per
block shape and dtype where it measured faster: pipeline/model/gpu.py): a block's
``conv_relu(bn_relu(stream, block), block)`` becomes one call,
``act = dilated_conv(stream, block["w1"], block["b1"], block["dilation"], in_scale=block["scale1"],
in_shift=block["shift1"], relu=True)``, and ``conv_add_(act, cropped_stream, block)`` becomes
``dilated_conv(act, block["w2"], block["b2"], block["dilation"], accumulate_into=cropped_stream)``.

CPU tensors run only under Triton's interpreter, for tests: ``TRITON_INTERPRET=1`` must be in the
environment before triton is first imported (Triton 3.7 decides at decoration time, and decorates its own
library functions, such as ``tl.zeros``, when it is imported).
"""

from __future__ import annotations

import torch

try:
    import triton
    import triton.language as tl
except ImportError as error:  # an optional extra: say how to get it
    raise ImportError("the Triton kernels need the `triton` package: pip install -e '.[triton]'") from error

INTERPRETED = triton.knobs.runtime.interpret
INTERPRETER_BLOCK = 32  # small tiles, so short test inputs span several programs and a partial last tile
DTYPES = (torch.float16, torch.bfloat16, torch.float32)

# Tile sizes, warps and stages tried per shape on CUDA: few, as each is compiled for every shape, fusion and
# dtype (36 kernels in all) before the first timing
TUNING_CONFIGS = [
    triton.Config({"BLOCK": block}, num_warps=warps, num_stages=stages)
    for block, warps, stages in [(64, 4, 3), (128, 4, 3), (256, 8, 3), (512, 8, 3)]
]


@triton.jit
def _conv_kernel(x_ptr, w_ptr, bias_ptr, scale_ptr, shift_ptr, out_ptr, out_len,
                 x_stride_b, x_stride_p, x_stride_c, w_stride_o, w_stride_i, w_stride_k,
                 out_stride_b, out_stride_p, out_stride_c,
                 C: tl.constexpr, K: tl.constexpr, DILATION: tl.constexpr, HAS_BIAS: tl.constexpr,
                 FUSE_BN: tl.constexpr, RELU: tl.constexpr, ACCUMULATE: tl.constexpr, DOT_FLOAT32: tl.constexpr,
                 BLOCK: tl.constexpr):
    rows = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    batch = tl.program_id(1).to(tl.int64)  # batch offsets may pass 2**31 elements; offsets within one do not
    channels = tl.arange(0, C)
    row_ok = (rows < out_len)[:, None]
    x_rows = x_ptr + batch * x_stride_b + channels[None, :] * x_stride_c
    # each tap's weight as a (C_in, C_out) matrix: rows are input channels
    w_tap = w_ptr + channels[:, None] * w_stride_i + channels[None, :] * w_stride_o
    if FUSE_BN:
        scale = tl.load(scale_ptr + channels).to(tl.float32)[None, :]
        shift = tl.load(shift_ptr + channels).to(tl.float32)[None, :]
    acc = tl.zeros((BLOCK, C), dtype=tl.float32)
    for tap in range(K):
        x = tl.load(x_rows + (rows + tap * DILATION)[:, None] * x_stride_p, mask=row_ok, other=0.0)
        if FUSE_BN:  # rounded once to the input dtype, as the separate BatchNorm pass would be
            x = tl.maximum(x.to(tl.float32) * scale + shift, 0.0).to(x_ptr.dtype.element_ty)
        w = tl.load(w_tap + tap * w_stride_k)
        if DOT_FLOAT32:  # exact: products of bfloat16 values are float32 values
            x, w = x.to(tl.float32), w.to(tl.float32)
        acc = tl.dot(x, w, acc, input_precision="ieee")  # ignored for half precision; float32 stays float32
    if HAS_BIAS:
        acc += tl.load(bias_ptr + channels).to(tl.float32)[None, :]
    if RELU:
        acc = tl.maximum(acc, 0.0)
    out = out_ptr + batch * out_stride_b + rows[:, None] * out_stride_p + channels[None, :] * out_stride_c
    if ACCUMULATE:
        acc += tl.load(out, mask=row_ok).to(tl.float32)
    tl.store(out, acc.to(out_ptr.dtype.element_ty), mask=row_ok)


# restore_value: timing a config runs the kernel many times, which must not accumulate into the output
_tuned_conv_kernel = triton.autotune(TUNING_CONFIGS, key=["C", "K", "DILATION", "FUSE_BN", "ACCUMULATE"],
                                     restore_value=["out_ptr"])(_conv_kernel)


def dilated_conv(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None, dilation: int = 1, *,
                 in_scale: torch.Tensor | None = None, in_shift: torch.Tensor | None = None, relu: bool = False,
                 accumulate_into: torch.Tensor | None = None) -> torch.Tensor:
    """Valid dilated convolution ``conv(ReLU(x * in_scale + in_shift) or x, weight) + bias``.

    Args:
        x: input (batch, C, 1, L); any strides (channels-last, or a view cropped along L, is fastest).
        weight: (C, C, 1, k), C a power of two >= 16; same dtype and device as ``x``.
        bias: (C,) or None.
        dilation: the taps' spacing; the output has L - (k - 1) * dilation positions.
        in_scale, in_shift: both or neither; C values each (any shape): BatchNorm + ReLU fused on load.
        relu: apply ReLU to ``conv + bias`` (before any accumulate).
        accumulate_into: (batch, C, 1, L_out) of ``x``'s dtype, updated in place (``+= conv + bias``)
            and returned; otherwise a new channels-last tensor is returned.

    Raises:
        ValueError: shapes, dtypes or devices that do not fit together.
        RuntimeError: a CPU tensor without Triton's interpreter.
    """
    batch, channels, _, length = _check_input(x, weight)
    kernel = weight.shape[-1]
    out_len = length - (kernel - 1) * dilation
    if dilation < 1 or out_len < 1:
        raise ValueError(f"dilation {dilation} with kernel {kernel} leaves no output positions from length {length}")
    if (in_scale is None) != (in_shift is None):
        raise ValueError("in_scale and in_shift go together (the BatchNorm fused on load needs both)")
    vectors = [v for v in (bias, in_scale, in_shift) if v is not None]
    if any(v.numel() != channels or v.device != x.device for v in vectors):
        raise ValueError(f"bias, in_scale and in_shift need {channels} values each, on {x.device}")
    out_shape = (batch, channels, 1, out_len)
    if accumulate_into is None:
        out = torch.empty(out_shape, dtype=x.dtype, device=x.device, memory_format=torch.channels_last)
    elif tuple(accumulate_into.shape) != out_shape or accumulate_into.dtype != x.dtype:
        raise ValueError(f"accumulate_into must be {x.dtype} of shape {out_shape}, got "
                         f"{accumulate_into.dtype} {tuple(accumulate_into.shape)}")
    else:
        out = accumulate_into
    scale, shift = (v.reshape(-1).contiguous() if v is not None else x for v in (in_scale, in_shift))
    args = (x, weight, bias if bias is not None else x, scale, shift, out, out_len,
            x.stride(0), x.stride(3), x.stride(1), weight.stride(0), weight.stride(1), weight.stride(3),
            out.stride(0), out.stride(3), out.stride(1))
    flags = dict(C=channels, K=kernel, DILATION=dilation, HAS_BIAS=bias is not None, FUSE_BN=in_scale is not None,
                 RELU=relu, ACCUMULATE=accumulate_into is not None)
    # Triton 3.7's interpreter multiplies bfloat16 tiles as their raw 16-bit patterns: give it float32 ones
    flags["DOT_FLOAT32"] = INTERPRETED and x.dtype == torch.bfloat16
    if x.is_cuda:
        _tuned_conv_kernel[lambda meta: (triton.cdiv(out_len, meta["BLOCK"]), batch)](*args, **flags)
    elif INTERPRETED:
        _conv_kernel[(triton.cdiv(out_len, INTERPRETER_BLOCK), batch)](*args, **flags, BLOCK=INTERPRETER_BLOCK)
    else:
        raise RuntimeError("the Triton convolution runs on CUDA tensors (on CPU only under TRITON_INTERPRET=1, "
                           "set before pipeline.model.triton_conv is imported)")
    return out


def _check_input(x: torch.Tensor, weight: torch.Tensor) -> tuple[int, int, int, int]:
    """(batch, C, 1, L) of ``x`` once it fits ``weight``; a ValueError naming what does not."""
    if x.dim() != 4 or x.shape[2] != 1:
        raise ValueError(f"x must be (batch, channels, 1, length), got shape {tuple(x.shape)}")
    channels = x.shape[1]
    if channels < 16 or channels & (channels - 1):
        raise ValueError(f"the kernel's tiles need a power-of-two channel count >= 16, got {channels}")
    if weight.dim() != 4 or tuple(weight.shape[:3]) != (channels, channels, 1):
        raise ValueError(f"weight must be ({channels}, {channels}, 1, k) for x's channels, got {tuple(weight.shape)}")
    if x.dtype not in DTYPES or weight.dtype != x.dtype or weight.device != x.device:
        raise ValueError(f"x and weight must share a device and one of {DTYPES}, got {x.dtype} on {x.device} and "
                         f"{weight.dtype} on {weight.device}")
    return x.shape
