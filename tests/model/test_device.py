"""Device and dtype checks (one line, before any weights are read) and window sizes from a memory budget."""

from __future__ import annotations

import pytest
import torch

from pipeline.errors import ConfigError
from pipeline.model.device import CPU_WINDOW, REFERENCE_WINDOW, auto_window, check_compute, resolve_device

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


def test_windows_follow_the_memory_budget():
    cpu, gpu = torch.device("cpu"), torch.device("cuda")
    assert auto_window("reference", 2**30, CONTEXT, cpu) == (REFERENCE_WINDOW, 1)
    assert auto_window("fast", 2**40, CONTEXT, cpu) == (CPU_WINDOW, 1)  # long windows on CPU, one at a time
    assert auto_window("fast", 1, CONTEXT, cpu) == (CONTEXT, 1)  # never shorter than the context
    small, large = auto_window("fast", 2**30, CONTEXT, gpu), auto_window("fast", 2**34, CONTEXT, gpu)
    assert large[0] * large[1] > small[0] * small[1]  # a larger budget scores more positions a pass
