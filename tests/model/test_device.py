"""Device and dtype checks (one line, before any weights are read) and window sizes from a memory budget."""

from __future__ import annotations

import pytest
import torch

from pipeline.errors import ConfigError
from pipeline.model import gpu
from pipeline.model.device import CPU_WINDOW, REFERENCE_WINDOW, auto_window, check_compute, check_kernel, resolve_device

from ..conftest import DATA, run_cli

CONTEXT = 10_000


@pytest.mark.parametrize(("dtype", "device", "message"), [
    ("float16", "cpu", "float16 is for GPUs"),
    ("float64", "cpu", "dtype"),
    ("float32", "tpu", "not a torch device"),
])
def test_what_this_machine_cannot_compute_is_one_config_error(dtype, device, message):
    with pytest.raises(ConfigError, match=message):
        check_compute(dtype, device)


def test_a_usable_device_comes_back_as_torch_device():
    assert check_compute("float32", "cpu") == resolve_device("cpu") == torch.device("cpu")


@pytest.mark.parametrize(("kernel", "device", "message"), [
    ("triton", "cpu", "kernel triton is a GPU kernel; on CPU use auto, onednn, own"),
    ("cudnn", "cpu", "kernel cudnn is a GPU kernel"),
    ("own", "cuda", "kernel own is a CPU kernel; on cuda use auto, cudnn, triton"),
    ("onednn", "cuda:1", "kernel onednn is a CPU kernel; on cuda:1 use"),
    ("cublas", "cpu", "kernel must be one of auto, onednn, own, cudnn, triton"),
])
def test_a_kernel_for_the_other_device_is_one_config_error(kernel, device, message):
    with pytest.raises(ConfigError, match=message) as raised:  # torch.device: no GPU needed to check the names
        check_kernel(kernel, torch.device(device))
    assert "\n" not in str(raised.value)


def test_predict_with_a_gpu_kernel_on_cpu_says_so_in_one_line(monkeypatch, capsys, weights_dir):
    code, out, err = run_cli(monkeypatch, capsys, "predict", "--fasta", DATA / "grch38-chr22" / "chr22.fa.gz",
                             "--region", "chr22:32,040,001-32,040,010", "--kernel", "triton", "--weights", weights_dir)
    assert code == 2 and not out
    assert err.strip() == "error: kernel triton is a GPU kernel; on CPU use auto, onednn, own"


def test_kernel_names_map_to_the_engines_cpu_and_gpu_kernels():
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert [check_kernel(k, cpu) for k in ("auto", "onednn", "own")] == [("auto", "auto"), ("onednn", "auto"),
                                                                         ("own", "auto")]
    assert [check_kernel(k, cuda) for k in ("auto", "cudnn")] == [("onednn", "auto"), ("onednn", "cudnn")]


def test_triton_without_the_package_names_the_extra(monkeypatch):
    # triton itself stays unimported: the interpreter tests set TRITON_INTERPRET before its first import
    monkeypatch.setattr(gpu, "triton_available", lambda: False)
    with pytest.raises(ConfigError, match=r"needs the `triton` package: pip install -e '\.\[triton\]'"):
        check_kernel("triton", torch.device("cuda"))


def test_windows_follow_the_memory_budget():
    cpu, gpu = torch.device("cpu"), torch.device("cuda")
    assert auto_window("reference", 2**30, CONTEXT, cpu) == (REFERENCE_WINDOW, 1)
    assert auto_window("fast", 2**40, CONTEXT, cpu) == (CPU_WINDOW, 1)  # long windows on CPU, one at a time
    assert auto_window("fast", 1, CONTEXT, cpu) == (CONTEXT, 1)  # never shorter than the context
    small, large = auto_window("fast", 2**30, CONTEXT, gpu), auto_window("fast", 2**34, CONTEXT, gpu)
    assert large[0] * large[1] > small[0] * small[1]  # a larger budget scores more positions a pass
