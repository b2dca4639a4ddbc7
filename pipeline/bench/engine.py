"""Engine benchmark: this machine's conv kernel rate, then each engine's speed as a share of it.

One strand, 12-network official ensemble. For every configuration: nucleotides/s, the speed-up
over the reference engine, the executed GFLOP/s (every convolution and matmul the engine really
runs, `pipeline.model.cost`) and that as a % of the conv kernel's rate in the same dtype, measured
right before it in the same process (so load from other processes affects both alike). Each figure
is the best of ``repeats`` runs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..genome.encode import one_hot, reverse_complement_onehot
from ..model import load_ensemble, own_kernel
from ..model.config import ModelConfig
from ..model.cost import cone_macs, cone_widest_input, fast_window_macs, scoring_macs, split_windows
from ..model.ensemble import cone_chunk
from .kernel import conv_kernel_rate, load_average

P_SPLICE = ModelConfig().p_splice_channels
SITE = 0.2  # float32 P(splice) from which a position counts as a (candidate) site


@dataclass
class Result:
    engine: str
    dtype: str
    window: int
    batch: int  # windows per pass (cone: substitutions per pass)
    bases: int  # scored bases (nucleotides) or, for the cone path, substitutions
    seconds: float
    executed_macs: int  # all networks together
    kernel_flops: float  # conv kernel FLOP/s in this dtype, measured next to this run
    cpu_seconds: float  # this process's CPU time (all threads) of the best run
    kernel_cpu_flops: float  # the kernel's FLOP/s per CPU second
    max_diff: float | None = None
    unit: str = "nt/s"

    @property
    def rate(self) -> float:
        return self.bases / self.seconds

    @property
    def flops(self) -> float:
        return 2 * self.executed_macs / self.seconds

    @property
    def share(self) -> float:
        return self.flops / self.kernel_flops

    @property
    def cpu_share(self) -> float:
        """Executed FLOP per CPU second over the kernel's: steadier than ``share`` under load."""
        return 2 * self.executed_macs / self.cpu_seconds / self.kernel_cpu_flops


@dataclass
class Timing:
    seconds: float = float("inf")
    cpu_seconds: float = float("inf")
    kernel: float = 0.0
    kernel_cpu: float = 0.0


def _best(run, repeats: int, dtype: torch.dtype, device: str, length: int, batch: int = 1) -> tuple[Timing, object]:
    """Best wall and CPU seconds of ``run()``, and the best kernel rates measured just before each run
    (on ``batch`` inputs of ``length``: the engine's own pass)."""
    timing, value = Timing(), None
    for _ in range(repeats):
        kernel, kernel_cpu = conv_kernel_rate(dtype, device, length, repeats=1, batch=batch)
        timing.kernel, timing.kernel_cpu = max(timing.kernel, kernel), max(timing.kernel_cpu, kernel_cpu)
        start, start_cpu = time.perf_counter(), time.process_time()
        value = run()
        timing.seconds = min(timing.seconds, time.perf_counter() - start)
        timing.cpu_seconds = min(timing.cpu_seconds, time.process_time() - start_cpu)
    return timing, value


def time_engine(engine: str, dtype: str, seq: str, weights: str | None, device: str, repeats: int = 1,
                window: int | None = None, batch: int | None = None, kernel: str = "auto") -> tuple[Result, np.ndarray]:
    """Score ``seq`` (one strand) with a fresh ensemble; best of ``repeats`` after a warm-up."""
    ensemble = load_ensemble("official", weights, device=device, dtype=dtype, engine=engine, window=window,
                             batch_size=batch, kernel=kernel)
    x = one_hot(seq)
    n_out = len(seq) - ensemble.context
    windows, width = split_windows(n_out, ensemble.window)
    batch = min(ensemble.batch_size, windows)
    ensemble.score_onehot(x)  # warm-up: primitives for these shapes, allocator
    timing, scores = _best(lambda: ensemble.score_onehot(x), repeats, getattr(torch, dtype), device,
                           width + ensemble.context, batch)
    macs = len(ensemble.runners) * scoring_macs(ensemble.config, engine, n_out, ensemble.window)
    return Result(_label(engine, kernel), dtype, width, batch, n_out, timing.seconds, macs, timing.kernel,
                  timing.cpu_seconds, timing.kernel_cpu), scores


def _label(engine: str, kernel: str) -> str:
    """The table's engine column: the kernel named where one was forced (fast/own, cone/onednn, fast/triton)."""
    return engine if kernel == "auto" else f"{engine}/{kernel}"


def time_cone(dtype: str, seq: str, weights: str | None, device: str, repeats: int = 1, n_variants: int | None = None,
              d: int = 50, kernel: str = "auto") -> Result:
    """Score ``n_variants`` SNVs (default 64 on CPU, 2,048 on GPU: enough to fill its passes) spread
    over the middle 10 kb of ``seq`` in their cone of influence (`Ensemble.score_substitutions`, as
    variant scoring does): reference pass plus cone passes."""
    ensemble = load_ensemble("official", weights, device=device, dtype=dtype, kernel=kernel)
    n_variants = n_variants or (64 if ensemble.device.type == "cpu" else 2048)
    config = ensemble.config
    region = one_hot(seq[: 2 * config.context + 2 * d])  # 10 kb of variants, each with its full cone
    rng = np.random.default_rng(0)
    starts = np.sort(rng.choice(np.arange(config.flank + d, len(region) - config.flank - d), n_variants, False))
    patches = np.zeros((n_variants, 1, 4), dtype=np.float32)
    patches[np.arange(n_variants), 0, (region[starts].argmax(1) + 1) % 4] = 1
    groups = [(starts, patches)]
    ensemble.score_substitutions(region, groups, d)  # warm-up
    # the kernel at the cone passes' own shape: a pass's substitutions x the widest window they convolve
    per_pass = min(n_variants, cone_chunk(ensemble.device))
    timing, _ = _best(lambda: ensemble.score_substitutions(region, groups, d), repeats, getattr(torch, dtype), device,
                      cone_widest_input(config, d), per_pass)
    per_net = fast_window_macs(config, len(region) - config.context) + n_variants * cone_macs(config, 1, d)
    return Result(_label("cone", kernel), dtype, d, per_pass, n_variants, timing.seconds,
                  len(ensemble.runners) * per_net, timing.kernel, timing.cpu_seconds, timing.kernel_cpu, unit="SNV/s")


def half_error(half: np.ndarray, full: np.ndarray) -> str:
    """bfloat16/float16 scores against float32: max and 99.9th percentile of |diff| over all
    positions and channels, and max |diff| of P(splice) where float32 P(splice) >= 0.2."""
    diff = np.abs(half - full)
    sites = full[:, P_SPLICE] >= SITE
    at_sites = diff[:, P_SPLICE][sites]
    site_max = f"{at_sites.max():.2e}" if at_sites.size else "-"
    return (f"max {diff.max():.2e}, 99.9th pct {np.quantile(diff, 0.999):.2e}, max at P(splice) sites >= {SITE} "
            f"{site_max} ({int(sites.sum())} site-tissues), over {diff.shape[0]:,} positions x 12 channels")


def run_bench(seq: str, reference_bases: int, weights: str | None = None, device: str = "cpu",
              dtypes: tuple[str, ...] = ("float32", "bfloat16"), repeats: int = 2,
              windows: tuple[int, ...] = (), cone: bool = True,
              batches: tuple[int, ...] = (), engines: bool = True,
              kernels: tuple[str, ...] = ("auto",)) -> tuple[list[Result], list[str]]:
    """Results (with ``engines``: reference and fast engines per dtype and a window x batch sweep per
    dtype; with ``cone``: the cone path) and notes. The fast and cone rows are timed once per kernel in
    ``kernels``, side by side in the same run: on CPU (`cpu.use_own_kernel`) in float32, and in bfloat16
    where our kernel has AVX512_BF16; on CUDA (cudnn, triton: `gpu.use_triton`) in every dtype.

    The reference engine scores the first ``reference_bases`` only (it is slow); max|diff| is
    against reference float32 on those bases. Notes give each half dtype's error against fast float32.
    """
    context = 10_000
    results: list[Result] = []
    notes: list[str] = []
    baseline, full = None, {}
    def kernels_for(dtype: str) -> tuple[str, ...]:  # our CPU kernel: float32, and bfloat16 with AVX512_BF16
        if device != "cpu":
            return kernels
        if dtype not in ("float32", "bfloat16"):
            return ("auto",)
        return tuple(k for k in kernels if k != "own" or own_kernel.available(getattr(torch, dtype))) or ("auto",)

    for dtype in dtypes if engines else ():
        runs = [("reference", "auto")] + [("fast", kernel) for kernel in kernels_for(dtype)]
        for engine, kernel in runs:
            n = reference_bases if engine == "reference" else len(seq) - context
            result, scores = time_engine(engine, dtype, seq[: n + context], weights, device,
                                         1 if engine == "reference" else repeats, kernel=kernel)
            baseline = scores if baseline is None else baseline
            m = min(len(baseline), len(scores))
            result.max_diff = float(np.abs(scores[:m] - baseline[:m]).max())
            results.append(result)
            if engine == "fast":
                full[dtype] = scores
    for dtype in dtypes:
        if dtype != "float32" and "float32" in full:
            notes.append(f"{dtype} vs float32 (fast engine): {half_error(full[dtype], full['float32'])}")
    sweep = [(w, b) for w in windows or (None,) for b in batches or (None,)] if engines and (windows or batches) else []
    for dtype in dtypes:
        for window, batch in sweep:
            result, scores = time_engine("fast", dtype, seq, weights, device, repeats, window, batch)
            result.max_diff = float(np.abs(scores - full["float32"]).max()) if "float32" in full else None
            results.append(result)
    if cone:
        for dtype in dtypes:
            results += [time_cone(dtype, seq, weights, device, repeats, kernel=k) for k in kernels_for(dtype)]
    return results, notes


def format_report(results: list[Result], notes: list[str], machine: list[str]) -> str:
    """The benchmark as one table, with the machine (`describe_machine`, taken at the start) above it."""
    reference = next((r.rate for r in results if r.engine == "reference" and r.dtype == "float32"), None)
    # the fast engine and cone rows on our kernel over the same rows on the library's, where both ran
    rates = {(r.engine, r.dtype): r.rate for r in results}
    ratios = {pair: [f"{name} {dtype} {rates[(f'{name}/{pair[0]}', dtype)] / rates[(f'{name}/{pair[1]}', dtype)]:.2f}x"
                     for dtype in ("float32", "bfloat16", "float16") for name in ("fast", "cone")
                     if (f"{name}/{pair[0]}", dtype) in rates and (f"{name}/{pair[1]}", dtype) in rates]
              for pair in (("own", "onednn"), ("triton", "cudnn"))}
    lines = list(machine)
    kernels: dict[str, float] = {}
    for r in results:
        kernels[r.dtype] = max(kernels.get(r.dtype, 0.0), r.kernel_flops)
    lines.append("conv kernel (oneDNN/cuDNN conv2d, channels-last, the network's 32 trunk shapes at each run's batch "
                 "and window): " + ", ".join(f"{dt} {k / 1e9:,.0f} GFLOP/s" for dt, k in kernels.items()))
    lines.append(f"{'engine':<12}{'dtype':<10}{'window':>8}{'batch':>6}{'bases':>11}{'rate':>16}{'x ref':>7}"
                 f"{'GFLOP/s':>9}{'kernel':>8}{'% kernel':>9}{'(cpu)':>6}{'max|diff|':>11}")
    for r in results:
        speedup = f"{r.rate / reference:.1f}" if reference and r.unit == "nt/s" else "-"
        diff = f"{r.max_diff:.2e}" if r.max_diff is not None else "-"
        digits = 0 if r.rate >= 100 else 2
        lines.append(f"{r.engine:<12}{r.dtype:<10}{r.window:>8,}{r.batch:>6}{r.bases:>11,}{r.rate:>11,.{digits}f} "
                     f"{r.unit:<5}{speedup:>6}{r.flops / 1e9:>9,.0f}{r.kernel_flops / 1e9:>8,.0f}{100 * r.share:>8.0f}%"
                     f"{100 * r.cpu_share:>5.0f}%{diff:>11}")
    lines.append("(one strand, 12-network official ensemble; GFLOP/s = executed convolutions and matmuls; kernel ="
                 " conv kernel rate measured just before; (cpu): the same ratio per CPU second; max|diff| against"
                 " reference float32; cone: window = d, batch = SNVs a pass, bases = SNVs)")
    if ratios["own", "onednn"]:
        lines.append("our CPU kernel over oneDNN (same run): " + ", ".join(ratios["own", "onednn"]))
    if ratios["triton", "cudnn"]:
        lines.append("our Triton kernel over cuDNN (same run): " + ", ".join(ratios["triton", "cudnn"]))
    lines += notes
    lines.append(f"load average (1 min) at end: {load_average():.2f}")
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
    from ..variants.scorer import ScoreOptions, VariantScorer, load_genes

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
        rate, done = official_style_rate(weights, reference, genes, snvs[:n_official])
    report = (f"variants: official-style {rate:.2f} variants/s ({done} SNVs); pangolin-pipeline score "
              f"{ours:.2f} variants/s ({counts['scored']} SNVs): {ours / rate:.1f}x")
    if half:
        report += (f"\n{half}: {half_rate:.2f} variants/s ({half_rate / rate:.1f}x official-style); "
                   f"2-decimal output equal to float32 for {same}/{len(snvs)} records ({same / len(snvs):.0%})")
    return report


def official_style_rate(weights: str | None, reference, genes, records: list,
                        device: str = "cpu") -> tuple[float, int]:
    """(variants/s, variants) of the official tool's way on ``records``: per variant, strand and network,
    full reference and alternative passes of the reference engine, batch 1."""
    from ..variants.scorer import ScoreOptions, VariantScorer

    official = load_ensemble("official", weights, engine="reference", device=device)
    slow = VariantScorer(official, reference, genes, ScoreOptions())
    start = time.perf_counter()
    done = 0
    for index, record in enumerate(records):
        alleles, _ = slow.prepare(index, record)
        for a in alleles:
            flank = slow.flank + slow.d
            for strand in a.strands:
                for seq in (a.context, a.context[:flank] + a.alt + a.context[flank + len(a.ref):]):
                    x = one_hot(seq)
                    x = reverse_complement_onehot(x) if strand == "-" else x
                    batch = torch.from_numpy(np.ascontiguousarray(x)).T[None].to(official.device)
                    with torch.inference_mode():
                        for runner in official.runners:
                            runner(batch)[0, P_SPLICE].cpu()  # .cpu(): wait for the GPU, as the official tool does
            done += 1
    return done / (time.perf_counter() - start), done


def _info(vcf: Path) -> list[str]:
    """The INFO column of each record of a VCF."""
    return [line.split("\t")[7] for line in vcf.read_text().splitlines() if not line.startswith("#")]
