"""Engine benchmark: machine peak, then nucleotides/s of reference and fast engines per dtype.

One strand, full ensemble. Work per output base is ``networks x 0.69 M`` multiply-accumulates
(the network's cost per computed position); FLOP/s counts 2 FLOP per MAC of that useful work.
"""

from __future__ import annotations

import platform
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..genome.encode import one_hot
from ..model import load_ensemble


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
    lines += [f"peak (matmul) {dt}: {p / 1e9:,.1f} GFLOP/s" for dt, p in peaks.items()]
    lines.append(f"{'engine':<10}{'dtype':<10}{'bases':>9}{'nt/s':>10}{'x ref':>8}{'GFLOP/s':>10}{'% peak':>8}"
                 f"{'max|diff|':>11}")
    for r in results:
        peak = peaks.get(r.dtype)
        # a matmul peak below what the convolutions reach (emulated bf16) says nothing: print "-"
        share = f"{100 * r.flops / peak:.0f}%" if peak and r.flops <= peak else "-"
        lines.append(f"{r.engine:<10}{r.dtype:<10}{r.bases:>9,}{r.rate:>10,.0f}{r.rate / reference:>8.1f}"
                     f"{r.flops / 1e9:>10,.1f}{share:>8}{r.max_diff:>11.2e}")
    lines.append("(one strand, 12-network official ensemble; max|diff| against reference float32)")
    return "\n".join(lines)


def bench_variants(vcf: str, fasta: str, annotation: str, weights: str | None, n_official: int, n_ours: int,
                   half: str | None = None) -> str:
    """variants/s of the official-style path (per variant, per network, batch 1, ref and alt, 'same'
    padding) against `score`'s batched, cone-of-influence path on the first SNVs of ``vcf``; with
    ``half`` (a dtype) also that dtype's speed and how often its 2-decimal output equals float32's."""
    import tempfile

    from ..genome.fasta import Reference
    from ..variants.driver import score_variants
    from ..variants.records import read_vcf
    from ..variants.scorer import P_SPLICE, ScoreOptions, VariantScorer, load_genes

    header, records = read_vcf(vcf)
    snvs = [r for r in records if not r.error and len(r.ref) == 1 and all(len(a) == 1 for a in r.alts)][:n_ours]
    options = ScoreOptions()
    reference = Reference(fasta)
    genes = load_genes(annotation, options)
    lines = [header[-1]] + ["\t".join(r.fields) for r in snvs]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.vcf"
        path.write_text("\n".join(["##fileformat=VCFv4.2", *lines]) + "\n")
        fast = load_ensemble("official", weights)
        scorer = VariantScorer(fast, reference, genes, options)
        start = time.perf_counter()
        counts = score_variants(path, scorer, Path(tmp) / "out.vcf")
        ours = counts["scored"] / (time.perf_counter() - start)
        if half:
            scorer = VariantScorer(load_ensemble("official", weights, dtype=half), reference, genes, options)
            start = time.perf_counter()
            score_variants(path, scorer, Path(tmp) / "half.vcf")
            half_rate = counts["scored"] / (time.perf_counter() - start)
            same = sum(a == b for a, b in zip(_info(Path(tmp) / "out.vcf"), _info(Path(tmp) / "half.vcf"), strict=True))
        official = load_ensemble("official", weights, engine="reference")
        slow = VariantScorer(official, reference, genes, options)
        start = time.perf_counter()
        done = 0
        for index, record in enumerate(snvs[:n_official]):
            alleles, _ = slow.prepare(index, record)
            for a in alleles:  # one variant at a time, each network separately, batch 1
                for strand in a.genes.strand.unique():
                    for seq in (a.context, a.context[: 5050] + a.alt + a.context[5051:]):
                        x = one_hot(seq)
                        x = x[::-1, ::-1] if strand == "-" else x
                        t = torch.from_numpy(np.ascontiguousarray(x)).T[None]
                        with torch.inference_mode():
                            for runner in official.runners:
                                runner(t)[0, P_SPLICE]
                done += 1
        rate = done / (time.perf_counter() - start)
    report = (f"variants: official-style {rate:.2f} variants/s ({done} SNVs); pangolin-pipeline score "
              f"{ours:.2f} variants/s ({counts['scored']} SNVs): {ours / rate:.1f}x")
    if half:
        report += (f"\n{half}: {half_rate:.2f} variants/s ({half_rate / rate:.1f}x official-style); "
                   f"2-decimal output equal to float32 for {same}/{len(snvs)} records ({same / len(snvs):.0%})")
    return report


def _info(vcf: Path) -> list[str]:
    """The INFO column of each record of a VCF."""
    return [line.split("\t")[7] for line in vcf.read_text().splitlines() if not line.startswith("#")]
