"""The CPU-runnable parts of the Triton-vs-cuDNN benchmark: arguments, the peak table, FLOP counts, the summary."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from pipeline.bench.triton_conv import PEAKS, Timing, card_peak, conv_flops, format_row, main, parse_args, summarize


@pytest.mark.parametrize("device_name,card", [
    ("NVIDIA H100 80GB HBM3", "H100 SXM"), ("NVIDIA H100 PCIe", "H100 PCIe"), ("NVIDIA H200", "H200 SXM"),
    ("NVIDIA A100-SXM4-80GB", "A100"), ("NVIDIA A100 80GB PCIe", "A100"), ("NVIDIA L4", "L4"),
    ("NVIDIA L40S", "L40S"), ("NVIDIA GeForce RTX 4090", "RTX 4090"),
    ("NVIDIA L40", None), ("NVIDIA H100 NVL", None), ("NVIDIA H200 NVL", None),  # other peaks: not guessed
])
def test_peak_table_matches_torch_device_names(device_name, card):
    peak = card_peak(device_name)
    assert (peak.name if peak else None) == card


def test_peaks_are_dense_half_precision_above_float32():
    for _, peak in PEAKS:
        assert peak.tflops(torch.float16) == peak.tflops(torch.bfloat16) == peak.half > peak.float32 > 0
        assert peak.tflops(torch.float32) == peak.float32 and peak.source.startswith("NVIDIA")


def test_arguments_and_their_errors(capsys):
    args = parse_args([])
    assert (args.batch, args.length, args.card) == (8, 100_000, None)
    assert args.dtypes == [torch.float16, torch.bfloat16, torch.float32]
    assert parse_args(["--dtype", "bfloat16", "--card", "L4", "--length", "2001"]).dtypes == [torch.bfloat16]
    for bad, message in [(["--length", "2000"], "--length > 2000"), (["--batch", "0"], "--batch must be >= 1"),
                         (["--card", "H100"], "--card must be one of"), (["--dtype", "float64"], "invalid choice")]:
        with pytest.raises(SystemExit):
            parse_args(bad)
        assert message in capsys.readouterr().err


@pytest.mark.parametrize("kernel,dilation", [(11, 1), (41, 25)])
def test_conv_flops_counts_what_torch_counts(kernel, dilation):
    # imported here: it imports triton, which must wait for tests/model/test_triton_conv.py's TRITON_INTERPRET
    from torch.utils.flop_counter import FlopCounterMode

    x, weight = torch.zeros(2, 32, 1, 1_200), torch.zeros(32, 32, 1, kernel)
    with FlopCounterMode(display=False) as counter:
        F.conv2d(x, weight, dilation=(1, dilation))
    assert conv_flops(2, 1_200, kernel, dilation, 32) == counter.get_total_flops()


def test_summary_weights_shapes_by_their_work():
    peak = card_peak("NVIDIA H200")
    # two shapes: cuDNN 1 s + 3 s, ours 1 s + 1 s for the same work: 2x overall, not the mean of 1x and 3x
    timings = [Timing("k11 d1", torch.float16, "cudnn", 1.0, 10**12, None),
               Timing("k11 d1", torch.float16, "triton", 1.0, 10**12, 0.0),
               Timing("k41 d25", torch.float16, "cudnn", 3.0, 3 * 10**12, None),
               Timing("k41 d25", torch.float16, "triton", 1.0, 3 * 10**12, 0.0)]
    (line,) = summarize(timings, peak)
    assert line.startswith("MAC-weighted conv float16: cuDNN 1.0 TFLOP/s") and line.endswith(": 2.00x cuDNN")
    assert f"triton 2.0 TFLOP/s ({100 * 2 / peak.half:.1f}% of peak)" in line
    row = format_row(timings[3], peak).split()  # 3e12 operations in 1 s
    assert row[:4] == ["k41", "d25", "float16", "triton"] and row[4:7] == ["1000.000", "3.0", f"{300 / peak.half:.1f}%"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without a GPU")
def test_without_a_gpu_it_says_so_in_one_line():
    with pytest.raises(SystemExit, match="needs a CUDA GPU"):
        main(["--dtype", "float16"])
