"""The Triton convolution against torch's conv2d: through Triton's interpreter on CPU (every test run where
triton is installed) and compiled on a CUDA GPU (marked gpu), at the network's four (kernel, dilation) shapes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

# Triton reads TRITON_INTERPRET when it is imported (its own library functions are decorated then) and when
# a kernel is decorated: so it is set before the first import, and only without a GPU (a GPU runs the
# compiled kernels). It stays set for the rest of the run: Triton also reads it while interpreting.
if not torch.cuda.is_available() and "triton" not in sys.modules:
    os.environ["TRITON_INTERPRET"] = "1"
pytest.importorskip("triton")

from pipeline.model.triton_conv import INTERPRETED, dilated_conv  # noqa: E402

SHAPES = [(11, 1), (11, 4), (21, 10), (41, 25)]  # the network's (kernel, dilation) pairs
DTYPES = [torch.float32, torch.float16, torch.bfloat16]
C = 32

interpreted = pytest.mark.skipif(not INTERPRETED, reason="needs TRITON_INTERPRET=1 before triton is imported "
                                 "(set by this module without a GPU, unless something imported triton first)")


def random_inputs(kernel: int, dilation: int, batch: int, out_len: int, dtype: torch.dtype, device: str = "cpu",
                  seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Channels-last input, weight (scaled as trained weights are: outputs of order 1) and bias."""
    gen = torch.Generator().manual_seed(seed)
    length = out_len + (kernel - 1) * dilation
    x = torch.randn(batch, C, 1, length, generator=gen)
    weight = torch.randn(C, C, 1, kernel, generator=gen) / (C * kernel) ** 0.5
    bias = torch.randn(C, generator=gen)
    x, weight = (t.to(device, dtype).contiguous(memory_format=torch.channels_last) for t in (x, weight))
    return x, weight, bias.to(device, dtype)


def exact_conv(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, dilation: int) -> torch.Tensor:
    """conv2d of the same (already rounded) values in float64: the answer before the output's rounding."""
    return F.conv2d(x.double(), weight.double(), bias.double(), dilation=(1, dilation))


def activation_ulps(act: torch.Tensor, weight: torch.Tensor, dilation: int) -> torch.Tensor:
    """What the output moves by if every activation rounds one unit away from torch's: Triton 3.7's
    interpreter truncates float32 to bfloat16, and on a GPU a fused multiply-add rounds once, not twice."""
    magnitude = F.conv2d(act.double().abs(), weight.double().abs(), dilation=(1, dilation))
    return magnitude * torch.finfo(act.dtype).eps


def assert_rounded_from(result: torch.Tensor, exact: torch.Tensor, slack: torch.Tensor | float = 0.0) -> None:
    """``result`` is ``exact`` rounded once to its dtype (plus float32 accumulation error and ``slack``):
    float32 within 1e-5, half precision within one unit in the last place."""
    assert result.shape == exact.shape
    error = (result.double() - exact).abs() - slack
    if result.dtype == torch.float32:
        assert error.max() <= 1e-5
    else:
        ulp = torch.finfo(result.dtype).eps * exact.abs()
        assert (error <= ulp + 1e-5).all(), f"max error {error.max():.3g} beyond one ulp"


@interpreted
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("kernel,dilation,batch,out_len", [(11, 1, 2, 45), (11, 4, 1, 33), (21, 10, 2, 17),
                                                            (41, 25, 1, 64)])
def test_plain_conv_equals_conv2d(kernel, dilation, batch, out_len, dtype):
    # output lengths: odd over two tiles, one past a tile, shorter than one, exactly two
    x, weight, bias = random_inputs(kernel, dilation, batch, out_len, dtype)
    result = dilated_conv(x, weight, bias, dilation)
    assert result.is_contiguous(memory_format=torch.channels_last)
    assert_rounded_from(result, exact_conv(x, weight, bias, dilation))
    if dtype == torch.float32:  # the brief's comparison, against torch's own float32 convolution
        assert (result - F.conv2d(x, weight, bias, dilation=(1, dilation))).abs().max() <= 1e-5


@interpreted
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_batchnorm_relu_on_load_and_relu_on_store(dtype):
    """conv_relu(bn_relu(stream)) as one call, on a stream cropped along its length (a strided view)."""
    kernel, dilation, crop = 21, 10, 7
    x, weight, bias = random_inputs(kernel, dilation, 2, 39 + 2 * crop, dtype, seed=1)
    stream = x[..., crop:-crop]
    gen = torch.Generator().manual_seed(2)
    scale, shift = (torch.randn(1, C, 1, 1, generator=gen).to(dtype) for _ in range(2))
    result = dilated_conv(stream, weight, bias, dilation, in_scale=scale, in_shift=shift, relu=True)
    # the activation rounded once to the dtype, as the engine's separate BatchNorm pass rounds it
    act = (stream.float() * scale.float() + shift.float()).to(dtype).relu()
    exact = exact_conv(act, weight, bias, dilation).relu()
    assert_rounded_from(result, exact, slack=activation_ulps(act, weight, dilation))


@interpreted
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_accumulates_into_a_cropped_view(dtype):
    """conv_add_: ``stream[crop:-crop] += conv(act) + bias`` in place; the cropped-off ends are untouched."""
    kernel, dilation, crop = 41, 25, 500
    act, weight, bias = random_inputs(kernel, dilation, 2, 37, dtype, seed=3)
    stream = torch.randn(2, C, 1, 37 + 2 * crop, generator=torch.Generator().manual_seed(4)).to(dtype)
    stream = stream.contiguous(memory_format=torch.channels_last)
    before = stream.clone()
    view = stream[..., crop:-crop]
    assert dilated_conv(act, weight, bias, dilation, accumulate_into=view) is view
    assert_rounded_from(view, before[..., crop:-crop].double() + exact_conv(act, weight, bias, dilation))
    assert torch.equal(stream[..., :crop], before[..., :crop]) and torch.equal(stream[..., -crop:], before[..., -crop:])


def test_bad_arguments_name_what_is_wrong():
    x, weight, bias = random_inputs(11, 4, 1, 5, torch.float32)
    conv = dilated_conv
    with pytest.raises(ValueError, match="leaves no output positions"):
        conv(x, weight, bias, dilation=5)
    with pytest.raises(ValueError, match="in_scale and in_shift go together"):
        conv(x, weight, bias, 4, in_scale=torch.ones(C))
    with pytest.raises(ValueError, match=r"weight must be \(32, 32, 1, k\)"):
        conv(x, weight[:16], bias, 4)
    with pytest.raises(ValueError, match="share a device and one of"):
        conv(x, weight.half(), bias, 4)
    with pytest.raises(ValueError, match="power-of-two channel count"):
        conv(x[:, :24], weight, bias, 4)
    with pytest.raises(ValueError, match="accumulate_into must be"):
        conv(x, weight, bias, 4, accumulate_into=torch.zeros(1, C, 1, 6))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available() or INTERPRETED, reason="needs a CUDA GPU, kernels compiled")
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("kernel,dilation", SHAPES)
def test_compiled_kernel_equals_conv2d_on_gpu(kernel, dilation, dtype):
    """The compiled (autotuned) kernel at the network's shapes: plain, fused BatchNorm + ReLU, accumulate."""
    x, weight, bias = random_inputs(kernel, dilation, 2, 3_001, dtype, device="cuda")
    assert_rounded_from(dilated_conv(x, weight, bias, dilation), exact_conv(x, weight, bias, dilation))
    scale, shift = torch.rand(C, device="cuda", dtype=dtype) + 0.5, torch.randn(C, device="cuda", dtype=dtype)
    act = (x.float() * scale.view(1, -1, 1, 1).float() + shift.view(1, -1, 1, 1).float()).to(dtype).relu()
    fused = dilated_conv(x, weight, bias, dilation, in_scale=scale, in_shift=shift, relu=True)
    exact = exact_conv(act, weight, bias, dilation).relu()
    assert_rounded_from(fused, exact, slack=activation_ulps(act, weight, dilation))
    stream = torch.randn_like(fused)
    before = stream.double()
    dilated_conv(x, weight, bias, dilation, accumulate_into=stream)
    assert_rounded_from(stream, before + exact_conv(x, weight, bias, dilation))


# Compiles the kernel for Hopper (sm_90) in a process without the interpreter: Triton's wheel carries
# ptxas, so no GPU is needed. For each "dtype fuse accumulate" argument, prints the instruction the
# compiled variant multiplies with and its shared memory.
HOPPER_COMPILE = """
import sys
import triton
from triton.backends.compiler import GPUTarget
from triton.compiler import ASTSource
from pipeline.model.triton_conv import TUNING_CONFIGS, _conv_kernel

config = max(TUNING_CONFIGS, key=lambda c: c.kwargs["BLOCK"])  # the largest tile: the most shared memory
for variant in sys.argv[1:]:
    dtype, fuse, accumulate = variant.split()
    flags = dict(C=32, K=41, DILATION=25, HAS_BIAS=True, FUSE_BN=fuse == "1", RELU=fuse == "1",
                 ACCUMULATE=accumulate == "1", DOT_FLOAT32=False, **config.kwargs)
    signature = {p.name: "constexpr" if p.is_constexpr else f"*{dtype}" if p.name.endswith("_ptr") else "i32"
                 for p in _conv_kernel.params}
    constants = {(_conv_kernel.arg_names.index(name),): value for name, value in flags.items()}
    kernel = triton.compile(ASTSource(_conv_kernel, signature, constants), target=GPUTarget("cuda", 90, 32),
                            options=dict(num_warps=config.num_warps, num_stages=config.num_stages))
    ptx = kernel.asm["ptx"]
    print("wgmma" if "wgmma" in ptx else "mma" if "mma.sync" in ptx else "fma", kernel.metadata.shared)
"""


@pytest.mark.slow
def test_kernel_compiles_for_hopper_without_a_gpu():
    """Half precision on tensor cores (wgmma), float32 as true float32 (FMA, not TF32 tensor cores), and the
    largest tile within an H100's 227 KiB of shared memory per block."""
    variants = {"fp16 1 0": "wgmma", "bf16 0 1": "wgmma", "fp32 1 0": "fma"}
    env = {key: value for key, value in os.environ.items() if key != "TRITON_INTERPRET"}
    done = subprocess.run([sys.executable, "-c", HOPPER_COMPILE, *variants], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    compiled = [line.split() for line in done.stdout.splitlines()]
    assert [instruction for instruction, _ in compiled] == list(variants.values())
    assert all(int(shared) <= 227 * 1024 for _, shared in compiled)
