"""Our Triton convolution against cuDNN at the network's four shapes, on one CUDA GPU.

For each shape (kernel, dilation) and dtype: the time of one 32 -> 32 channel convolution with bias
(cuDNN: ``F.conv2d`` on channels-last tensors; ours: `pipeline.model.triton_conv.dilated_conv`), its
TFLOP/s, that as a % of the card's dense peak (tensor cores for float16/bfloat16, CUDA cores for float32,
which stays float32: TF32 is off for both), and the max |diff| between the two; then the same for a whole
residual block's convolutions (cuDNN: BatchNorm + ReLU pass, convolution + ReLU, convolution + residual
add; ours: the two fused calls the engine will make); then the MAC-weighted totals over the four shapes
(each shape has 4 blocks of 2 convolutions in the network, all of the same length here).

Run: ``python -m pipeline.bench.triton_conv [--batch 8] [--length 100000] [--dtype float16 ...]``
(workflows/gpu-check.sh runs it). cuDNN picks its fastest algorithm (``cudnn.benchmark``); each time is
Triton's ``do_bench`` median, the same timer for both.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..model.config import ModelConfig

DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32}


@dataclass(frozen=True)
class CardPeak:
    """A card's dense peak rates (no sparsity), TFLOP/s, from its vendor's figures."""

    name: str
    half: float  # float16/bfloat16 tensor cores, float32 accumulation
    float32: float  # CUDA cores (true float32; no TF32)
    source: str

    def tflops(self, dtype: torch.dtype) -> float:
        return self.float32 if dtype == torch.float32 else self.half


# Matched in order against torch's device name (e.g. "NVIDIA H100 80GB HBM3", "NVIDIA H100 PCIe"). Vendor
# datasheets give float16 tensor rates with sparsity; dense is half of that.
PEAKS = [
    (r"H200(?!.*NVL)", CardPeak("H200 SXM", 989.5, 67.0, "NVIDIA H200 datasheet: FP16 1,979 sparse, FP32 67")),
    (r"H100.*PCIe", CardPeak("H100 PCIe", 756.5, 51.0, "NVIDIA H100 datasheet: FP16 1,513 sparse, FP32 51")),
    (r"H100.*(SXM|HBM3)", CardPeak("H100 SXM", 989.5, 67.0, "NVIDIA H100 datasheet: FP16 1,979 sparse, FP32 67")),
    (r"A100", CardPeak("A100", 312.0, 19.5, "NVIDIA A100 datasheet: FP16 312 dense (624 sparse), FP32 19.5")),
    (r"L40S", CardPeak("L40S", 362.05, 91.6, "NVIDIA L40S datasheet: FP16 362.05 dense (733 sparse), FP32 91.6")),
    (r"\bL4\b", CardPeak("L4", 121.0, 30.3, "NVIDIA L4 datasheet: FP16 242 sparse, FP32 30.3")),
    (r"RTX 4090", CardPeak("RTX 4090", 165.2, 82.6, "NVIDIA Ada Lovelace architecture whitepaper, appendix: "
                                                    "FP16 with FP32 accumulate 165.2 dense, FP32 82.6")),
]


def card_peak(device_name: str) -> CardPeak | None:
    """The peak table's entry for a device name, or None for a card it does not list."""
    for pattern, peak in PEAKS:
        if re.search(pattern, device_name):
            return peak
    return None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; a bad value exits with argparse's one-line message."""
    parser = argparse.ArgumentParser(prog="python -m pipeline.bench.triton_conv", description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=8, help="windows per call (default 8)")
    parser.add_argument("--length", type=int, default=100_000, help="input positions per window (default 100,000)")
    parser.add_argument("--dtype", action="append", choices=list(DTYPES), help="repeatable; default all three")
    parser.add_argument("--card", help="peak table entry to use when the device's name is not in it, e.g. 'H100 SXM'")
    args = parser.parse_args(argv)
    widest = max((k - 1) * d for k, d in ModelConfig().block_specs)
    if args.batch < 1 or args.length <= 2 * widest:
        parser.error(f"--batch must be >= 1 and --length > {2 * widest} (a block at the widest shape crops that much)")
    if args.card is not None and args.card not in {peak.name for _, peak in PEAKS}:
        parser.error(f"--card must be one of {', '.join(peak.name for _, peak in PEAKS)}, got {args.card!r}")
    args.dtypes = [DTYPES[name] for name in args.dtype or DTYPES]
    return args


def conv_flops(batch: int, length: int, kernel: int, dilation: int, channels: int) -> int:
    """Floating-point operations (2 per multiply-add) of one valid convolution over ``length`` positions."""
    return 2 * batch * (length - (kernel - 1) * dilation) * channels * channels * kernel


@dataclass
class Timing:
    label: str
    dtype: torch.dtype
    engine: str
    seconds: float
    flops: int
    max_diff: float | None  # against cuDNN


def time_seconds(fn: Callable[[], object]) -> float:
    from triton.testing import do_bench  # triton only where a GPU runs this

    return do_bench(fn, warmup=25, rep=200, return_mode="median") / 1e3


def measure_conv(kernel: int, dilation: int, dtype: torch.dtype, batch: int, length: int) -> list[Timing]:
    """One convolution with bias, cuDNN then ours."""
    from ..model.triton_conv import dilated_conv

    x, weight, bias = _random_layer(kernel, dtype, batch, length, seed=0)
    label, flops = f"k{kernel} d{dilation}", conv_flops(batch, length, kernel, dilation, x.shape[1])
    reference = F.conv2d(x, weight, bias, dilation=(1, dilation))
    diff = (dilated_conv(x, weight, bias, dilation).float() - reference.float()).abs().max().item()
    return [Timing(label, dtype, "cudnn", time_seconds(lambda: F.conv2d(x, weight, bias, dilation=(1, dilation))),
                   flops, None),
            Timing(label, dtype, "triton", time_seconds(lambda: dilated_conv(x, weight, bias, dilation)), flops, diff)]


def measure_block(kernel: int, dilation: int, dtype: torch.dtype, batch: int, length: int) -> list[Timing]:
    """A residual block's convolutions as the engine runs them: cuDNN's three passes, then our two calls."""
    from ..model.triton_conv import dilated_conv

    stream, w1, b1 = _random_layer(kernel, dtype, batch, length, seed=1)
    _, w2, b2 = _random_layer(kernel, dtype, 1, 1 + (kernel - 1) * dilation, seed=2)
    channels, crop = stream.shape[1], (kernel - 1) * dilation
    gen = torch.Generator().manual_seed(3)
    scale = (torch.rand(1, channels, 1, 1, generator=gen) + 0.5).to("cuda", dtype)
    shift = torch.randn(1, channels, 1, 1, generator=gen).to("cuda", dtype)

    def cudnn(out: torch.Tensor) -> None:  # as engine.py's bn_relu, conv_relu and conv_add_ on CUDA
        act = torch.addcmul(shift, stream, scale).relu_()
        act = torch.cudnn_convolution_relu(act, w1, b1, (1, 1), (0, 0), (1, dilation), 1)
        out[..., crop:-crop] += F.conv2d(act, w2, b2, dilation=(1, dilation))

    def ours(out: torch.Tensor) -> None:
        act = dilated_conv(stream, w1, b1, dilation, in_scale=scale, in_shift=shift, relu=True)
        dilated_conv(act, w2, b2, dilation, accumulate_into=out[..., crop:-crop])

    results = [stream.clone(), stream.clone()]
    cudnn(results[0])
    ours(results[1])
    diff = (results[1].float() - results[0].float()).abs().max().item()
    label = f"k{kernel} d{dilation} block"
    flops = conv_flops(batch, length, kernel, dilation, channels) + conv_flops(batch, length - crop, kernel,
                                                                                dilation, channels)
    out = torch.zeros_like(stream)  # accumulated into on every timed call: only its time matters
    return [Timing(label, stream.dtype, "cudnn", time_seconds(lambda: cudnn(out)), flops, None),
            Timing(label, stream.dtype, "triton", time_seconds(lambda: ours(out)), flops, diff)]


def _random_layer(kernel: int, dtype: torch.dtype, batch: int, length: int,
                  seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Channels-last input, weight (scaled as trained weights are) and bias on the GPU."""
    channels = ModelConfig().hidden
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, channels, 1, length, generator=gen)
    weight = torch.randn(channels, channels, 1, kernel, generator=gen) / (channels * kernel) ** 0.5
    bias = torch.randn(channels, generator=gen)
    x, weight = (t.to("cuda", dtype).contiguous(memory_format=torch.channels_last) for t in (x, weight))
    return x, weight, bias.to("cuda", dtype)


def share_of_peak(tflops: float, dtype: torch.dtype, peak: CardPeak | None) -> str:
    return f"{100 * tflops / peak.tflops(dtype):.1f}%" if peak else "n/a"


def format_row(timing: Timing, peak: CardPeak | None) -> str:
    tflops = timing.flops / timing.seconds / 1e12
    share = f"{share_of_peak(tflops, timing.dtype, peak):>7}"
    diff = f"{timing.max_diff:.3g}" if timing.max_diff is not None else "-"
    return (f"{timing.label:<15} {str(timing.dtype).removeprefix('torch.'):<9} {timing.engine:<7} "
            f"{timing.seconds * 1e3:9.3f} {tflops:8.1f} {share} {diff:>10}")


def summarize(timings: list[Timing], peak: CardPeak | None) -> list[str]:
    """MAC-weighted over the four shapes (total work / total time), per kind of row, dtype and engine."""
    lines = []
    for kind in ("conv", "block"):
        for dtype in dict.fromkeys(t.dtype for t in timings):
            rows = {engine: [t for t in timings if t.dtype == dtype and t.engine == engine
                             and t.label.endswith("block") == (kind == "block")] for engine in ("cudnn", "triton")}
            if not rows["cudnn"] or len(rows["cudnn"]) != len(rows["triton"]):
                continue
            seconds = {engine: sum(t.seconds for t in rows[engine]) for engine in rows}
            flops = sum(t.flops for t in rows["cudnn"])
            rates = {engine: flops / seconds[engine] / 1e12 for engine in rows}
            cudnn, triton = (f"{rates[e]:.1f} TFLOP/s ({share_of_peak(rates[e], dtype, peak)} of peak)"
                             for e in ("cudnn", "triton"))
            lines.append(f"MAC-weighted {kind} {str(dtype).removeprefix('torch.')}: cuDNN {cudnn}, triton {triton}: "
                         f"{seconds['cudnn'] / seconds['triton']:.2f}x cuDNN")
    return lines


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if not torch.cuda.is_available():
        sys.exit("python -m pipeline.bench.triton_conv needs a CUDA GPU (torch sees none)")
    import triton

    torch.backends.cudnn.benchmark = True  # cuDNN's fastest algorithm for each shape
    torch.backends.cudnn.allow_tf32 = False  # float32 means float32, for cuDNN as for our kernel
    name = torch.cuda.get_device_name()
    peak = next(p for _, p in PEAKS if p.name == args.card) if args.card else card_peak(name)
    print(f"device: {name}; torch {torch.__version__}, CUDA {torch.version.cuda}, cuDNN "
          f"{torch.backends.cudnn.version()}, triton {triton.__version__}")
    print(f"peak: {peak.name}: {peak.half} TFLOP/s float16/bfloat16 dense tensor, {peak.float32} float32 "
          f"({peak.source})" if peak else "peak: card not in the table (--card NAME picks one); % of peak n/a")
    print(f"batch {args.batch} x {args.length:,} positions, 32 -> 32 channels; first calls autotune our kernel")
    print(f"{'shape':<15} {'dtype':<9} {'engine':<7} {'ms':>9} {'TFLOP/s':>8} {'% peak':>7} {'max|diff|':>10}")
    timings = []
    specs = dict.fromkeys(ModelConfig().block_specs)  # the four (kernel, dilation) shapes, in network order
    with torch.inference_mode():
        for measure in (measure_conv, measure_block):
            for dtype in args.dtypes:
                for kernel, dilation in specs:
                    for timing in measure(kernel, dilation, dtype, args.batch, args.length):
                        timings.append(timing)
                        print(format_row(timing, peak), flush=True)
    print("\n".join(summarize(timings, peak)))


if __name__ == "__main__":
    main()
