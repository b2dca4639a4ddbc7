"""CPU features: native bfloat16, AMX, and the warning for bfloat16 where it is slow."""

from __future__ import annotations

import pytest

from pipeline.errors import ConfigError
from pipeline.model import cpu, load_ensemble
from pipeline.model.cpu import amx_for_bf16, native_bf16, onednn_bf16

SAPPHIRE_RAPIDS = {"avx512f", "avx512_bf16", "amx_bf16", "amx_tile"}


def test_native_bf16_from_flags():
    assert native_bf16({"avx2", "fma"}) == []
    assert native_bf16(SAPPHIRE_RAPIDS) == ["avx512_bf16", "amx_bf16", "amx_tile"]


def test_amx_needs_the_flag_and_no_cap_below_it(monkeypatch):
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    assert amx_for_bf16(SAPPHIRE_RAPIDS) and not amx_for_bf16({"avx512f", "avx512_bf16"})
    for cap, amx in [("AVX512_CORE_BF16", False), ("avx2", False), ("AVX512_CORE_AMX", True), ("ALL", True)]:
        monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", cap)
        assert amx_for_bf16(SAPPHIRE_RAPIDS) == amx, cap


@pytest.mark.skipif(not onednn_bf16(), reason="oneDNN has no bfloat16 on this CPU")
def test_bfloat16_without_amx_warns_once_with_the_reason(monkeypatch, weights_dir):
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_BF16")  # read by amx_for_bf16 (oneDNN has started)
    with pytest.warns(UserWarning, match="without AMX") as caught:
        load_ensemble("official", weights_dir, dtype="bfloat16")
    assert len(caught) == 1 and "use float32" in str(caught[0].message)


def test_bfloat16_refused_in_one_line_where_onednn_lacks_it(monkeypatch, weights_dir):
    monkeypatch.setattr(cpu, "onednn_bf16", lambda: False)
    with pytest.raises(ConfigError, match="no bfloat16 convolutions on this CPU.*use float32"):
        load_ensemble("official", weights_dir, dtype="bfloat16")
