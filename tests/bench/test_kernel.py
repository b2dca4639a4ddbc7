"""Machine description and conv kernel rate used by `bench`."""

from __future__ import annotations

import torch

from pipeline.bench.kernel import conv_kernel_rate, describe_machine
from pipeline.model.config import ModelConfig, Stage


def test_describe_machine_names_bf16_and_load():
    lines = describe_machine("cpu")
    assert "bfloat16: " in lines[0] and any(w in lines[0] for w in ("native", "emulated", "unsupported"))
    assert lines[-1].startswith("load average (1 min)")


def test_describe_machine_says_when_instruction_sets_are_capped(monkeypatch):
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    monkeypatch.delenv("ATEN_CPU_CAPABILITY", raising=False)
    assert describe_machine("cpu")[0].endswith("capped by ONEDNN_MAX_CPU_ISA=AVX2")


def test_conv_kernel_rate_counts_flops_of_the_network_shapes():
    small = ModelConfig(stages=(Stage(11, 1, 2),), context=40)
    wall, cpu = conv_kernel_rate(torch.float32, length=2_000, repeats=1, config=small)
    assert wall > 0 and cpu > 0
