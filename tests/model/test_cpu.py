"""CPU features, and bfloat16's warning decided by a measured timing, not by CPU flags."""

from __future__ import annotations

import json
import time

import pytest

from pipeline.errors import ConfigError
from pipeline.model import cpu, load_ensemble
from pipeline.model.cpu import bf16_slow_warning, native_bf16, onednn_bf16

SAPPHIRE_RAPIDS = {"avx512f", "avx512_bf16", "amx_bf16", "amx_tile"}


def test_native_bf16_from_flags():
    assert native_bf16({"avx2", "fma"}) == []
    assert native_bf16(SAPPHIRE_RAPIDS) == ["avx512_bf16", "amx_bf16", "amx_tile"]


def test_warning_only_where_bfloat16_measured_slower():
    # Zen 4 (AVX512_BF16, no AMX) measured 2x, a Sapphire Rapids with AMX 4-5x: no warning there
    assert bf16_slow_warning(2.0) is None and bf16_slow_warning(5.5) is None and bf16_slow_warning(1.0) is None
    slow = bf16_slow_warning(0.56)  # the same Sapphire Rapids capped to AVX512_CORE_BF16
    assert slow.startswith("bfloat16 on this CPU runs slower than float32 (0.56x its speed, measured")
    assert slow.endswith("use float32") and "\n" not in slow


@pytest.mark.parametrize("speedup,warns", [(2.0, False), (0.56, True)])
def test_load_ensemble_warns_once_only_where_measured_slower(monkeypatch, weights_dir, speedup, warns):
    monkeypatch.setattr(cpu, "onednn_bf16", lambda: True)
    monkeypatch.setattr(cpu, "bf16_speedup", lambda: speedup)
    if warns:
        with pytest.warns(UserWarning, match=r"slower than float32 \(0\.56x its speed") as caught:
            load_ensemble("official", weights_dir, dtype="bfloat16", engine="reference")
        assert len(caught) == 1
    else:  # filterwarnings = error: any warning fails
        load_ensemble("official", weights_dir, dtype="bfloat16", engine="reference")


def test_float32_never_measures(monkeypatch, weights_dir):
    monkeypatch.setattr(cpu, "bf16_speedup", lambda: pytest.fail("measured for float32"))
    load_ensemble("official", weights_dir, engine="reference")


@pytest.mark.skipif(not onednn_bf16(), reason="oneDNN has no bfloat16 on this CPU")
def test_real_measurement_is_short_and_positive():
    start = time.perf_counter()
    speedup = cpu.measure_bf16_speedup()
    assert time.perf_counter() - start < 2.0  # about 0.1 s; generous for a busy machine
    assert 0 < speedup < 100


@pytest.fixture
def fresh_cache(monkeypatch, tmp_path):
    """The per-machine disk cache in tmp_path, the per-process cache emptied before and after."""
    path = tmp_path / "cache" / "cpu_measurements.json"
    monkeypatch.setattr(cpu, "cache_path", lambda: path)
    measured = []
    monkeypatch.setattr(cpu, "measure_bf16_speedup", lambda: measured.append(0.5) or 0.5)
    cpu.bf16_speedup.cache_clear()
    yield path, measured
    cpu.bf16_speedup.cache_clear()


def test_speedup_measured_once_per_process_and_once_per_machine(fresh_cache):
    path, measured = fresh_cache
    assert cpu.bf16_speedup() == 0.5 and cpu.bf16_speedup() == 0.5 and len(measured) == 1
    entry = json.loads(path.read_text())[cpu.machine_key()]
    assert entry["speedup"] == 0.5 and entry["torch"] and entry["cpu"]
    cpu.bf16_speedup.cache_clear()  # a new process on the same machine reads the disk
    assert cpu.bf16_speedup() == 0.5 and len(measured) == 1
    assert not list(path.parent.glob("*.tmp"))


def test_another_machine_or_isa_cap_measures_again(fresh_cache, monkeypatch):
    path, measured = fresh_cache
    cpu.bf16_speedup()
    cpu.bf16_speedup.cache_clear()
    monkeypatch.setattr(cpu, "cpu_model", lambda: "AMD EPYC 9654 96-Core Processor")
    cpu.bf16_speedup()
    cpu.bf16_speedup.cache_clear()
    monkeypatch.setattr(cpu, "_CAPS_AT_START", {"ONEDNN_MAX_CPU_ISA": "AVX512_CORE_BF16", "ATEN_CPU_CAPABILITY": ""})
    cpu.bf16_speedup()
    assert len(measured) == 3 and len(json.loads(path.read_text())) == 3


def test_a_corrupt_or_unwritable_cache_only_means_measuring(fresh_cache):
    path, measured = fresh_cache
    path.parent.mkdir()
    path.write_text("{not json")
    assert cpu.bf16_speedup() == 0.5 and cpu.machine_key() in json.loads(path.read_text())
    cpu.bf16_speedup.cache_clear()
    path.write_text(json.dumps({cpu.machine_key(): {"speedup": "fast"}}))  # not a number: measured again
    assert cpu.bf16_speedup() == 0.5 and len(measured) == 2
    cpu.bf16_speedup.cache_clear()
    path.unlink()
    path.parent.rmdir()
    path.parent.write_text("a file where the cache folder should be")  # unwritable, even for root
    assert cpu.bf16_speedup() == 0.5 and len(measured) == 3


def test_bfloat16_refused_in_one_line_where_onednn_lacks_it(monkeypatch, weights_dir):
    monkeypatch.setattr(cpu, "onednn_bf16", lambda: False)
    with pytest.raises(ConfigError, match="no bfloat16 convolutions on this CPU.*use float32"):
        load_ensemble("official", weights_dir, dtype="bfloat16")
