"""`bench`: benchmarks that print their figures, one subcommand each (engine, cone, variants,
saturate, queries). Regions are options; their defaults are in the shipped test data (--data)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from . import Opt, WeightsNoConfigOpt, app

bench_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                        context_settings={"show_default": True, "help_option_names": ["--help", "-h"]},
                        help="Benchmarks that print their figures (compare runs on the same quiet machine).")
app.add_typer(bench_app, name="bench")

DataOpt = Annotated[Optional[Path], Opt(metavar="DIR", show_default="../shared/data beside the repository",
                                        help="the shared test data (real sequence, ClinVar variants)")]
DeviceOpt = Annotated[str, Opt(metavar="NAME", help="cpu or cuda")]
RepeatsOpt = Annotated[int, Opt(metavar="N", min=1, help="timed runs per configuration; the best is reported")]
DtypesOpt = Annotated[Optional[list[str]], Opt("--dtype", metavar="NAME", help="dtypes to measure (repeatable)",
                                                show_default="float32, bfloat16 if oneDNN has it, float16 (GPU)")]
KernelsOpt = Annotated[Optional[list[str]], Opt("--kernel", metavar="NAME",
                                                 help="kernels to time side by side (repeatable): auto, onednn, "
                                                      "own (CPU), cudnn, triton (CUDA)",
                                                 show_default="CPU: onednn and own where our kernel is built; "
                                                              "CUDA: cudnn and triton where triton is installed")]
FastaOpt = Annotated[Optional[Path], Opt(metavar="FILE", show_default="the chr22 FASTA of --data",
                                         help="FASTA to take real sequence from")]
RegionOpt = Annotated[str, Opt(metavar="REGION", help="region scored (real sequence of the FASTA)")]


def _engine_table(fasta, region, reference_bases, dtype, device, repeats, window, batch, data, weights,
                  engines: bool, cone: bool, kernel: list[str] | None = None) -> str:
    import torch

    from ..bench.data import bench_data
    from ..bench.engine import format_report, run_bench
    from ..bench.kernel import describe_machine, own_kernel_table
    from ..genome.fasta import Reference
    from ..genome.regions import parse_region
    from ..model import gpu, own_kernel
    from ..model.cpu import onednn_bf16
    from ..model.device import check_kernel, resolve_device

    parsed = parse_region(region)
    seq = Reference(fasta or bench_data(data).chr22_fasta).fetch(parsed.chrom, parsed.start - 5000,
                                                                (parsed.end or parsed.start + 1) + 5000)
    default = ["float32", "bfloat16"] if device != "cpu" or onednn_bf16() else ["float32"]
    if device != "cpu":
        default.append("float16")
    torch_device = resolve_device(device)
    on_cpu = torch_device.type == "cpu"
    if on_cpu:
        both = ("onednn", "own") if own_kernel.available() else ("auto",)
    else:
        both = ("cudnn", "triton") if gpu.triton_available() else ("auto",)
    kernels = list(kernel or both)
    for name in kernels:  # one line for an unknown name or one for the other kind of device
        check_kernel(name, torch_device)
    machine = describe_machine(str(torch_device))
    if on_cpu and engines:  # the kernels themselves, per shape, before the engines that call them
        for name in dtype or default:
            if name in ("float32", "bfloat16"):
                machine += own_kernel_table(getattr(torch, name))
    results, notes = run_bench(seq, reference_bases, weights, device, tuple(dtype or default), repeats,
                               tuple(window or ()), cone, tuple(batch or ()), engines, tuple(kernels))
    return format_report(results, notes, machine)


@bench_app.command()
def engine(
    fasta: FastaOpt = None,
    region: RegionOpt = "chr22:32,040,001-32,150,000",
    reference_bases: Annotated[int, Opt(metavar="N", help="bases scored by the reference engine (slow)")] = 10_000,
    dtype: DtypesOpt = None,
    device: DeviceOpt = "cpu",
    repeats: RepeatsOpt = 2,
    window: Annotated[Optional[list[int]], Opt("--window", metavar="N", show_default="none",
                                               help="also time the fast engine at these windows (repeatable)")] = None,
    batch: Annotated[Optional[list[int]], Opt("--batch", metavar="N", show_default="none",
                                              help="also time the fast engine at these batches, with each "
                                                   "--window (repeatable; GPU)")] = None,
    cone: Annotated[bool, Opt("--cone/--no-cone", help="also the cone rows (as `bench cone`)")] = True,
    kernel: KernelsOpt = None,
    data: DataOpt = None,
    weights: WeightsNoConfigOpt = None,
) -> None:
    """The conv kernels per shape (ours and oneDNN's against the FMA peak), then the engines' nucleotides/s,
    % of kernel, speed-up and error (one table)."""
    typer.echo(_engine_table(fasta, region, reference_bases, dtype, device, repeats, window, batch, data, weights,
                             engines=True, cone=cone, kernel=kernel))


@bench_app.command()
def cone(
    fasta: FastaOpt = None,
    region: RegionOpt = "chr22:32,040,001-32,150,000",
    dtype: DtypesOpt = None,
    device: DeviceOpt = "cpu",
    repeats: RepeatsOpt = 2,
    kernel: KernelsOpt = None,
    data: DataOpt = None,
    weights: WeightsNoConfigOpt = None,
) -> None:
    """Cone-of-influence SNV scoring (the all-SNV store's and `score`'s SNV path): SNVs/s and % of kernel."""
    typer.echo(_engine_table(fasta, region, 0, dtype, device, repeats, None, None, data, weights,
                             engines=False, cone=True, kernel=kernel))


@bench_app.command()
def variants(
    count: Annotated[int, Opt("--count", metavar="N", min=20, help="ClinVar BRCA1 SNVs scored by `score`")] = 200,
    half: Annotated[Optional[str], Opt("--dtype", metavar="NAME", show_default="none",
                                       help="also this dtype, and its agreement with float32")] = None,
    data: DataOpt = None,
    weights: WeightsNoConfigOpt = None,
) -> None:
    """variants/s of `score` against the official-style path (per variant, per network), same SNVs."""
    from ..bench.data import bench_data
    from ..bench.engine import bench_variants

    typer.echo(bench_variants(*bench_data(data).brca1, weights, max(2, count // 20), count, half))


@bench_app.command()
def saturate(
    region: Annotated[Optional[str], Opt(metavar="REGION", show_default="chr17:41,276,116-41,276,145 (a BRCA1 exon "
                                         "end; 1 kb around it on GPU, where passes need filling)",
                                         help="region of the BRCA1 data saturated")] = None,
    device: DeviceOpt = "cpu",
    kernel: Annotated[str, Opt(metavar="NAME", help="convolutions: auto, onednn, own (CPU), cudnn, triton (CUDA)")
                      ] = "auto",
    dtype: Annotated[str, Opt(metavar="NAME", help="float32, or bfloat16/float16 certified equal to it")
                     ] = "float32",
    compare_cpu: Annotated[Optional[str], Opt(metavar="REGION", show_default="none",
                                              help="also saturate this region in float32 on --device and on the "
                                              "CPU and compare the two stores")] = None,
    data: DataOpt = None,
    weights: WeightsNoConfigOpt = None,
) -> None:
    """The all-SNV store: SNVs/s against `score` and the official-style path, and lookup records/s."""
    from ..bench.data import bench_data
    from ..bench.snvs import bench_lookup, bench_saturate, compare_devices
    from ..genome.regions import parse_region

    _, brca_fasta, brca_gtf = bench_data(data).brca1
    default = "chr17:41,276,116-41,276,145" if device == "cpu" else "chr17:41,275,647-41,276,645"
    parsed = parse_region(region or default)
    typer.echo(bench_saturate(brca_fasta, brca_gtf, parsed.chrom, parsed.start, parsed.end, weights, device=device,
                              kernel=kernel, dtype=dtype))
    typer.echo(bench_lookup(brca_fasta, brca_gtf, weights))
    if compare_cpu:
        small = parse_region(compare_cpu)
        typer.echo(compare_devices(brca_fasta, brca_gtf, small.chrom, small.start, small.end, weights, (device, "cpu")))


@bench_app.command()
def queries(
    store: Annotated[Optional[Path], typer.Argument(metavar="[STORE]", show_default="a synthetic whole-chromosome "
                                                    "layout store", help="query latency on this store")] = None,
) -> None:
    """Query latency (region, gene, sites) on a whole-chromosome store."""
    from ..bench.queries import bench_queries

    typer.echo(bench_queries(store))
