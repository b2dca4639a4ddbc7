"""The bench table: executed FLOP/s and % of kernel follow from the measurements given."""

from __future__ import annotations

from pipeline.bench.engine import Result, format_report


def test_report_rows_show_rates_shares_and_speedup():
    reference = Result("reference", "float32", 5_000, 1, 2_000, 10.0, 10**12, 4e11, 20.0, 2e11, 0.0)
    fast = Result("fast", "float32", 100_000, 1, 10_000, 5.0, 2 * 10**12, 1e12, 10.0, 5e11, 1e-6)
    cone = Result("cone", "float32", 50, 1, 64, 500.0, 10**12, 1e12, 1000.0, 5e11, unit="SNV/s")
    report = format_report([reference, fast, cone], ["a note"], ["machine line"])
    lines = report.splitlines()
    assert lines[0] == "machine line" and "a note" in lines
    row = next(line for line in lines if line.startswith("fast"))
    assert fast.flops == 8e11 and round(100 * fast.share) == 80 and round(100 * fast.cpu_share) == 80
    assert f"{fast.rate / reference.rate:.1f}" in row.split() and "80%" in row.split()
    assert "0.13" in next(line for line in lines if line.startswith("cone"))
