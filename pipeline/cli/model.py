"""Commands around the model: predict a region, manage weights, benchmarks."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Annotated, Optional

import typer

from . import Opt, WeightsOpt, _say, app, weights_app


@app.command()
def predict(
    fasta: Annotated[Path, Opt(help="FASTA (plain or bgzip, indexed)")],
    region: Annotated[str, Opt(help="CHROM:START-END, 1-based inclusive")],
    strand: Annotated[str, Opt(help="+ or -")] = "+",
    out: Annotated[Optional[Path], Opt(help="TSV output (default: stdout)")] = None,
    ensemble: Annotated[str, Opt(help="official or specialised")] = "official",
    dtype: Annotated[str, Opt(help="float32, bfloat16, float16 (GPU)")] = "float32",
    device: Annotated[str, Opt(help="cpu, cuda, cuda:N")] = "cpu",
    weights: WeightsOpt = None,
) -> None:
    """Score every position of a region (context fetched automatically; N beyond contig ends)."""
    from ..genome.fasta import Reference
    from ..genome.regions import parse_region
    from ..model import load_ensemble
    from ..predict import predict_region

    parsed = parse_region(region)
    if strand not in ("+", "-"):
        raise typer.BadParameter(f"strand must be + or -, got {strand!r}", param_hint="--strand")
    reference = Reference(fasta)
    ens = load_ensemble(ensemble, weights, device=device, dtype=dtype)
    table = predict_region(ens, reference, parsed, strand)
    if table.attrs["ambiguous"]:
        warnings.warn(f"{table.attrs['ambiguous']:,} IUPAC or other non-ACGTN symbols were read as N", stacklevel=1)
    table.to_csv(out if out else sys.stdout, sep="\t", index=False, float_format="%.6g")


@weights_app.command("fetch")
def weights_fetch(
    dest: Annotated[Path, Opt(help="directory to download into")],
    base_url: Annotated[Optional[str], Opt(help="mirror of the official models folder")] = None,
) -> None:
    """Download the 24 official v2 checkpoints, verifying each SHA-256."""
    from ..model.checkpoints import OFFICIAL_URL, fetch_weights

    paths = fetch_weights(dest, base_url or OFFICIAL_URL)
    _say(f"{len(paths)} checkpoints verified in {dest}")


@weights_app.command("verify")
def weights_verify(weights: WeightsOpt = None) -> None:
    """Check every checkpoint against its known SHA-256."""
    from ..model.checkpoints import SHA256, resolve_weights, verify_checkpoint

    directory = resolve_weights(weights)
    for name in SHA256:
        verify_checkpoint(directory, name)
    _say(f"all {len(SHA256)} checkpoints in {directory} match their SHA-256")


@app.command()
def bench(
    fasta: Annotated[Optional[Path], Opt(help="FASTA to take real sequence from")] = None,
    region: Annotated[str, Opt(help="region scored by the fast engines")] = "chr22:32,040,001-32,150,000",
    reference_bases: Annotated[int, Opt(help="bases scored by the reference engine (slow)")] = 10_000,
    dtype: Annotated[Optional[list[str]], Opt("--dtype", help="dtypes to measure [float32, bfloat16]")] = None,
    device: Annotated[str, Opt(help="cpu or cuda")] = "cpu",
    repeats: Annotated[int, Opt(help="timed runs per configuration; the best is reported")] = 2,
    window: Annotated[Optional[list[int]], Opt("--window", help="also time fast float32 at these windows")] = None,
    cone: Annotated[bool, Opt(help="also time cone-of-influence SNV scoring")] = True,
    variants: Annotated[int, Opt(help="also time variant scoring on this many ClinVar BRCA1 SNVs")] = 0,
    variants_dtype: Annotated[Optional[str], Opt(help="with --variants: also this dtype, and its agreement")] = None,
    queries: Annotated[bool, Opt("--queries", help="query latency on a whole-chromosome layout store")] = False,
    queries_store: Annotated[Optional[Path], Opt(help="query latency on this store instead")] = None,
    weights: WeightsOpt = None,
) -> None:
    """Measure the conv kernel rate and the engines' nucleotides/s, % of kernel, speed-up and error (one table)."""
    from ..bench.engine import bench_variants, format_report, run_bench
    from ..bench.kernel import describe_machine
    from ..genome.fasta import Reference
    from ..genome.regions import parse_region

    data = Path(__file__).resolve().parents[2].parent / "shared" / "data"
    if queries or queries_store:
        from ..bench.queries import bench_queries

        typer.echo(bench_queries(queries_store))
        return
    if variants:
        brca = data / "grch37-brca1"
        typer.echo(bench_variants(str(brca / "clinvar_20180701.BRCA1.vcf"), str(brca / "chr17.fa.gz"),
                                  str(brca / "canonical.gtf"), weights, max(2, variants // 20), variants,
                                  variants_dtype))
        return
    if repeats < 1:
        raise typer.BadParameter("must be >= 1", param_hint="--repeats")
    fasta = fasta or data / "grch38-chr22" / "chr22.fa.gz"
    parsed = parse_region(region)
    seq = Reference(fasta).fetch(parsed.chrom, parsed.start - 5000, (parsed.end or parsed.start + 1) + 5000)
    default = ("float32", "bfloat16") if device == "cpu" else ("float32", "bfloat16", "float16")
    machine = describe_machine(device)
    results, notes = run_bench(seq, reference_bases, weights, device, tuple(dtype or default), repeats,
                               tuple(window or ()), cone)
    typer.echo(format_report(results, notes, machine))
