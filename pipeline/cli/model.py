"""Commands around the model: predict a region, manage weights, benchmarks."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated, Optional

import typer

from . import ConfigOpt, Opt, QuietOpt, WeightsNoConfigOpt, WeightsOpt, _say, app, weights_app


@app.command()
def predict(
    fasta: Annotated[Path, Opt(metavar="FILE", help="FASTA (plain or bgzip, indexed)")],
    region: Annotated[str, Opt(help="CHROM:START-END, 1-based inclusive")],
    strand: Annotated[str, Opt(help="+ or -")] = "+",
    out: Annotated[Optional[str], Opt("--out", "-o", metavar="FILE", show_default="stdout",
                                      help="TSV output (.tsv.gz: BGZF-compressed); - for stdout")] = None,
    ensemble: Annotated[str, Opt(metavar="NAME", help="official or specialised")] = "official",
    dtype: Annotated[str, Opt(metavar="NAME", help="float32, bfloat16, float16 (GPU)")] = "float32",
    device: Annotated[str, Opt(metavar="NAME", help="cpu, cuda, cuda:N")] = "cpu",
    weights: WeightsNoConfigOpt = None,
    quiet: QuietOpt = False,
    head: Annotated[Optional[Path], Opt(metavar="FILE", show_default="none",
                                        help="fine-tuned head (.pt from `finetune`): adds its columns")] = None,
) -> None:
    """Score every position of a region (context fetched automatically; N beyond contig ends)."""
    from ..genome.fasta import Reference
    from ..genome.regions import check_strand, parse_region
    from ..model import load_ensemble
    from ..model.head import load_head
    from ..outputs import OutputFile
    from ..predict import predict_region, write_prediction
    from ..progress import CountProgress

    parsed = parse_region(region)
    check_strand(strand)
    output = OutputFile(out or "-", "--out")
    reference = Reference(fasta)
    ens = load_ensemble(ensemble, weights, device=device, dtype=dtype)
    with CountProgress("bases", enabled=not quiet) as progress:
        table = predict_region(ens, reference, parsed, strand, load_head(head, ens) if head else None,
                               on_total=progress.total, on_bases=progress.advance)
    if table.attrs["ambiguous"]:
        warnings.warn(f"{table.attrs['ambiguous']:,} IUPAC or other non-ACGTN symbols were read as N", stacklevel=1)
    with output.open() as handle:
        write_prediction(table, handle)


@weights_app.command("fetch")
def weights_fetch(
    weights: Annotated[Optional[str], Opt(metavar="DIR", show_default="$PANGOLIN_WEIGHTS, else the user directory",
                                          help="directory to download into")] = None,
    source: Annotated[Optional[str], Opt("--from", metavar="URL|DIR", show_default="the official repository",
                                         help="a mirror of the official models folder, or a local copy")] = None,
) -> None:
    """Download the 24 official v2 checkpoints, verifying each SHA-256 (by default into your user directory)."""
    from ..model.checkpoints import OFFICIAL_URL, fetch_weights, locate_weights

    target = locate_weights(weights, None, must_exist=False)
    paths = fetch_weights(target.path, source or OFFICIAL_URL)
    _say(f"{len(paths)} checkpoints verified in {target.path}")


@weights_app.command("verify")
def weights_verify(weights: WeightsOpt = None, config: ConfigOpt = None) -> None:
    """Say which weights directory is used and why, and check every checkpoint against its SHA-256."""
    from ..config import load_config
    from ..model.checkpoints import SHA256, locate_weights, verify_checkpoint

    location = locate_weights(weights, load_config(config).weights)
    _say(location.describe())
    for name in SHA256:
        verify_checkpoint(location.path, name)
    _say(f"all {len(SHA256)} checkpoints in {location.path} match their SHA-256")


@app.command()
def bench(
    fasta: Annotated[Optional[Path], Opt(metavar="FILE", show_default="the chr22 FASTA of --data",
                                         help="FASTA to take real sequence from")] = None,
    region: Annotated[str, Opt(help="region scored by the fast engines")] = "chr22:32,040,001-32,150,000",
    reference_bases: Annotated[int, Opt(help="bases scored by the reference engine (slow)")] = 10_000,
    dtype: Annotated[Optional[list[str]], Opt("--dtype", help="dtypes to measure (repeatable)",
                                              show_default="float32, bfloat16 if oneDNN has it, float16 (GPU)")] = None,
    device: Annotated[str, Opt(help="cpu or cuda")] = "cpu",
    repeats: Annotated[int, Opt(help="timed runs per configuration; the best is reported")] = 2,
    window: Annotated[Optional[list[int]], Opt("--window", metavar="N", show_default="none",
                                               help="also time the fast engine at these windows (repeatable)")] = None,
    batch: Annotated[Optional[list[int]], Opt("--batch", metavar="N", show_default="none",
                                              help="also time the fast engine at these batches, with each "
                                                   "--window (repeatable; GPU)")] = None,
    cone: Annotated[bool, Opt(help="also time cone-of-influence SNV scoring")] = True,
    variants: Annotated[int, Opt(help="also time variant scoring on this many ClinVar BRCA1 SNVs")] = 0,
    variants_dtype: Annotated[Optional[str], Opt(show_default="none",
                                                 help="with --variants: also this dtype, and its agreement")] = None,
    saturate: Annotated[bool, Opt("--saturate", help="all-SNV store: SNVs/s against `score` and the official-style "
                                  "path on a BRCA1 exon end, and lookup records/s")] = False,
    queries: Annotated[bool, Opt("--queries", help="query latency on a whole-chromosome layout store")] = False,
    queries_store: Annotated[Optional[Path], Opt(metavar="DIR", show_default="none",
                                                 help="query latency on this store instead")] = None,
    data: Annotated[Optional[Path], Opt(metavar="DIR", show_default="../shared/data beside the repository",
                                        help="the shared test data (real sequence, ClinVar variants)")] = None,
    weights: WeightsNoConfigOpt = None,
) -> None:
    """Measure the conv kernel rate and the engines' nucleotides/s, % of kernel, speed-up and error (one table)."""
    from ..bench.data import bench_data
    from ..bench.engine import bench_variants, format_report, run_bench
    from ..bench.kernel import describe_machine
    from ..genome.fasta import Reference
    from ..genome.regions import parse_region
    from ..model.cpu import onednn_bf16
    from ..model.ensemble import resolve_device

    parsed = parse_region(region)
    if queries or queries_store:
        from ..bench.queries import bench_queries

        typer.echo(bench_queries(queries_store))
        return
    inputs = bench_data(data)
    if variants:
        typer.echo(bench_variants(*inputs.brca1, weights, max(2, variants // 20), variants, variants_dtype))
        return
    if saturate:
        from ..bench.snvs import bench_lookup, bench_saturate

        _, brca_fasta, brca_gtf = inputs.brca1
        # 30 bases (90 SNVs) at a BRCA1 exon end on CPU; 1,000 bases around it on GPU (passes need filling)
        start, end = (41276115, 41276145) if device == "cpu" else (41275646, 41276645)
        typer.echo(bench_saturate(brca_fasta, brca_gtf, "chr17", start, end, weights, device=device))
        typer.echo(bench_lookup(brca_fasta, brca_gtf, weights))
        return
    if repeats < 1:
        raise typer.BadParameter("must be >= 1", param_hint="--repeats")
    seq = Reference(fasta or inputs.chr22_fasta).fetch(parsed.chrom, parsed.start - 5000,
                                                       (parsed.end or parsed.start + 1) + 5000)
    default = ["float32", "bfloat16"] if device != "cpu" or onednn_bf16() else ["float32"]
    if device != "cpu":
        default.append("float16")
    machine = describe_machine(str(resolve_device(device)))
    results, notes = run_bench(seq, reference_bases, weights, device, tuple(dtype or default), repeats,
                               tuple(window or ()), cone, tuple(batch or ()))
    typer.echo(format_report(results, notes, machine))
