"""Engine benchmark: machine peak, then nucleotides/s of reference and fast engines per dtype.

One strand, full ensemble. Work per output base is ``networks x 0.69 M`` multiply-accumulates
(the network's cost per computed position); FLOP/s counts 2 FLOP per MAC of that useful work.
"""

from __future__ import annotations

import platform
import time
from dataclasses import dataclass

import numpy as np
import torch

from .genome.encode import one_hot
from .model import load_ensemble


@dataclass
class Result:
    engine: str
    dtype: str
    bases: int
    seconds: float
    networks: int
    mac_per_position: int
    max_diff: float | None = None

    @property
    def rate(self) -> float:
        return self.bases / self.seconds

    @property
    def flops(self) -> float:
        return self.rate * self.networks * self.mac_per_position * 2


def matmul_peak(dtype: torch.dtype, n: int = 2048, repeats: int = 5) -> float:
    """FLOP/s of a large square matmul (may understate what oneDNN convolutions reach)."""
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * n**3 * repeats / (time.perf_counter() - start)


def cpu_description() -> str:
    capability = torch.backends.cpu.get_cpu_capability()
    return f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, {capability}"


def time_engine(engine: str, dtype: str, seq: str, weights: str | None, device: str) -> tuple[Result, np.ndarray]:
    ensemble = load_ensemble("official", weights, device=device, dtype=dtype, engine=engine)
    x = one_hot(seq)
    ensemble.score_onehot(x[: ensemble.context + 1000])  # warm-up: kernels, allocator
    start = time.perf_counter()
    scores = ensemble.score_onehot(x)
    seconds = time.perf_counter() - start
    result = Result(engine, dtype, len(seq) - ensemble.context, seconds, len(ensemble.runners),
                    ensemble.config.mac_per_position)
    return result, scores


def run_bench(seq: str, reference_bases: int, weights: str | None = None, device: str = "cpu",
              dtypes: tuple[str, ...] = ("float32", "bfloat16")) -> tuple[dict[str, float], list[Result]]:
    """Peaks and results. The reference engine scores the first ``reference_bases`` only."""
    peaks = {dt: matmul_peak(getattr(torch, dt)) for dt in dtypes if device == "cpu"}
    context = 10_000
    results = []
    baseline = None
    for dtype in dtypes:
        for engine in ("reference", "fast"):
            n = reference_bases if engine == "reference" or dtype != "float32" else len(seq) - context
            result, scores = time_engine(engine, dtype, seq[: n + context], weights, device)
            if baseline is None:
                baseline = scores
            m = min(len(baseline), len(scores))
            result.max_diff = float(np.abs(scores[:m] - baseline[:m]).max())
            results.append(result)
    return peaks, results


def format_report(peaks: dict[str, float], results: list[Result]) -> str:
    reference = results[0].rate
    lines = [f"machine: {cpu_description()}"]
    lines += [f"peak (matmul) {dt}: {p / 1e9:,.0f} GFLOP/s" for dt, p in peaks.items()]
    lines.append(f"{'engine':<10}{'dtype':<10}{'bases':>9}{'nt/s':>10}{'x ref':>8}{'GFLOP/s':>10}{'% peak':>8}{'max|diff|':>11}")
    for r in results:
        peak = peaks.get(r.dtype)
        share = f"{100 * r.flops / peak:.0f}%" if peak else "-"
        lines.append(f"{r.engine:<10}{r.dtype:<10}{r.bases:>9,}{r.rate:>10,.0f}{r.rate / reference:>8.1f}"
                     f"{r.flops / 1e9:>10,.0f}{share:>8}{r.max_diff:>11.2e}")
    lines.append("(one strand, 12-network official ensemble; max|diff| against reference float32)")
    return "\n".join(lines)
