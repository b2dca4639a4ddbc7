"""Command-line interface: parse, load config, call the library. No logic of its own."""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from typing import Annotated, Optional

import typer

from . import __version__
from .errors import PipelineError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Pangolin splice-site predictions: precompute genome-wide tracks, score variants, query.")
weights_app = typer.Typer(no_args_is_help=True, help="Manage the official Pangolin v2 checkpoints.")
app.add_typer(weights_app, name="weights")

_DEBUG = {"on": False}

Opt = typer.Option
ConfigOpt = Annotated[Optional[Path], Opt("--config", "-c", help="YAML config (flags override it)")]
WeightsOpt = Annotated[Optional[str], Opt(help="weights directory (else $PANGOLIN_WEIGHTS, else config)")]


def _say(message: str) -> None:
    typer.echo(message, err=True)


@app.callback()
def _main(
    debug: Annotated[bool, Opt("--debug", help="show tracebacks")] = False,
    version: Annotated[bool, Opt("--version", help="print the version and exit")] = False,
) -> None:
    _DEBUG["on"] = debug
    if version:
        typer.echo(__version__)
        raise typer.Exit()


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
    from .genome.fasta import Reference
    from .model import load_ensemble
    from .predict import predict_region
    from .regions import parse_region

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
    from .model.checkpoints import OFFICIAL_URL, fetch_weights

    paths = fetch_weights(dest, base_url or OFFICIAL_URL)
    _say(f"{len(paths)} checkpoints verified in {dest}")


@weights_app.command("verify")
def weights_verify(weights: WeightsOpt = None) -> None:
    """Check every checkpoint against its known SHA-256."""
    from .model.checkpoints import SHA256, resolve_weights, verify_checkpoint

    directory = resolve_weights(weights)
    for name in SHA256:
        verify_checkpoint(directory, name)
    _say(f"all {len(SHA256)} checkpoints in {directory} match their SHA-256")


@app.command()
def run(
    config: ConfigOpt = None,
    fasta: Annotated[Optional[str], Opt(help="reference FASTA")] = None,
    annotation: Annotated[Optional[str], Opt(help="GTF or GFF3 (optionally gzipped)")] = None,
    out: Annotated[Optional[str], Opt(help="output Zarr store")] = None,
    chrom: Annotated[Optional[list[str]], Opt("--chrom", help="only these chromosomes (repeatable)")] = None,
    gene_types: Annotated[Optional[list[str]], Opt("--gene-types", help="keep these gene types")] = None,
    tags: Annotated[Optional[list[str]], Opt("--tags", help="keep genes with a transcript tagged so")] = None,
    margin: Annotated[Optional[int], Opt(help="bases added on each side of every gene")] = None,
    tile_size: Annotated[Optional[int], Opt(help="positions per shard (= one tile of work)")] = None,
    chunk_size: Annotated[Optional[int], Opt(help="positions per chunk inside a shard")] = None,
    ensemble: Annotated[Optional[str], Opt(help="official or specialised")] = None,
    dtype: Annotated[Optional[str], Opt(help="compute dtype: float32, bfloat16, float16 (GPU)")] = None,
    store_dtype: Annotated[Optional[str], Opt(help="stored dtype: float16 or float32")] = None,
    engine: Annotated[Optional[str], Opt(help="fast or reference")] = None,
    device: Annotated[Optional[str], Opt(help="cpu or cuda")] = None,
    workers: Annotated[Optional[int], Opt(help="Dask workers")] = None,
    cluster: Annotated[Optional[str], Opt(help="local, cuda, slurm, none or tcp://HOST:PORT")] = None,
    weights: WeightsOpt = None,
    overwrite: Annotated[bool, Opt("--overwrite", help="replace a store made with other settings")] = False,
    quiet: Annotated[bool, Opt("--quiet", help="no progress bar")] = False,
) -> None:
    """Precompute splice tracks for the genes of an annotation into a Zarr store (resumable)."""
    from .config import load_config
    from .progress import RunProgress
    from .run import run as run_pipeline

    cfg = load_config(
        config, fasta=fasta, annotation=annotation, out=out, chroms=tuple(chrom or ()),
        gene_types=tuple(gene_types or ()), tags=tuple(tags or ()), margin=margin, tile_size=tile_size,
        chunk_size=chunk_size, ensemble=ensemble, dtype=dtype, store_dtype=store_dtype, engine=engine,
        device=device, workers=workers, cluster=cluster, weights=weights,
    )
    with RunProgress(enabled=not quiet) as progress:
        status = run_pipeline(cfg, overwrite=overwrite, on_done=progress.advance,
                              on_start=progress.dashboard, on_plan=progress.plan)
    status.pop("missing")
    _say(f"store {cfg.out}: " + ", ".join(f"{k}={v}" for k, v in status.items()))


@app.command()
def init(
    config: ConfigOpt = None,
    fasta: Annotated[Optional[str], Opt(help="reference FASTA")] = None,
    annotation: Annotated[Optional[str], Opt(help="GTF or GFF3")] = None,
    out: Annotated[Optional[str], Opt(help="output Zarr store")] = None,
    chrom: Annotated[Optional[list[str]], Opt("--chrom", help="only these chromosomes")] = None,
    tile_size: Annotated[Optional[int], Opt(help="positions per shard")] = None,
    weights: WeightsOpt = None,
    overwrite: Annotated[bool, Opt("--overwrite")] = False,
) -> None:
    """Create a store and its tile list for scheduler-free runs (`run-tiles`, then `finalize`)."""
    from .config import load_config
    from .run import init as init_store

    cfg = load_config(config, fasta=fasta, annotation=annotation, out=out, chroms=tuple(chrom or ()),
                      tile_size=tile_size, weights=weights)
    info = init_store(cfg, overwrite)
    _say(f"store {cfg.out}: {info['tiles_total']} tiles, {info['bases_total']:,} bases "
         f"({info['tiles_done']} tiles already done)")


@app.command("run-tiles")
def run_tiles(
    store: Annotated[Path, typer.Argument(help="a store made by `init`")],
    part: Annotated[int, Opt(help="which part this task runs (e.g. $SLURM_ARRAY_TASK_ID)")] = 0,
    parts: Annotated[int, Opt(help="how many parts the tiles are split into")] = 1,
    one_based: Annotated[bool, Opt("--one-based", help="--part counts from 1 (SLURM arrays 1-N)")] = False,
    threads: Annotated[Optional[int], Opt(help="torch threads (default: all cores)")] = None,
) -> None:
    """Score one part of a store's pending tiles inline (a SLURM array task)."""
    from .run import run_part

    summaries = run_part(store, part - 1 if one_based else part, parts, threads)
    _say(f"part {part}/{parts}: {len(summaries)} tiles, {sum(s['bases'] for s in summaries):,} bases")


@app.command()
def finalize(store: Annotated[Path, typer.Argument(help="a store made by `init` or `run`")]) -> None:
    """Check every tile is done; list the missing ones and exit 1 if any."""
    from .store.layout import read_identity
    from .store.manifest import Manifest

    read_identity(store)
    info = Manifest(store).status()
    if info["missing"]:
        _say(f"{len(info['missing'])} of {info['tiles_total']} tiles missing: " + " ".join(info["missing"][:50]))
        raise typer.Exit(1)
    _say(f"complete: {info['tiles_total']} tiles, {info['bases_total']:,} bases")


@app.command()
def status(
    store: Annotated[Path, typer.Argument(help="a store made by `run` or `init`")],
    as_json: Annotated[bool, Opt("--json", help="machine-readable output")] = False,
) -> None:
    """Progress of a store: tiles and bases done out of total."""
    from .store.layout import read_identity
    from .store.manifest import Manifest

    read_identity(store)
    info = Manifest(store).status()
    if as_json:
        typer.echo(json.dumps(info))
        return
    done, total = info["bases_done"], info["bases_total"]
    typer.echo(f"tiles {info['tiles_done']}/{info['tiles_total']}, bases {done:,}/{total:,}")
    if info["missing"]:
        typer.echo("missing: " + " ".join(info["missing"][:20]) + (" ..." if len(info["missing"]) > 20 else ""))


@app.command()
def score(
    variants: Annotated[Path, typer.Argument(help="VCF (.vcf, .vcf.gz, .bcf) or CSV of variants")],
    fasta: Annotated[Path, Opt(help="reference FASTA")],
    annotation: Annotated[Path, Opt(help="GTF or GFF3 with genes, transcripts and exons")],
    out: Annotated[Path, Opt(help="output VCF (or CSV for CSV input)")],
    distance: Annotated[int, Opt("--distance", "-d", help="bases either side of the variant")] = 50,
    no_mask: Annotated[bool, Opt("--no-mask", help="keep gains at annotated and losses at unannotated sites")] = False,
    score_cutoff: Annotated[Optional[float], Opt("--score-cutoff", "-s", help="all sites with |delta| >= X")] = None,
    score_exons: Annotated[bool, Opt("--score-exons", help="both splice sites of nearby exons")] = False,
    tags: Annotated[Optional[list[str]], Opt("--tags", help="masking transcripts' tags [Ensembl_canonical]")] = None,
    column_ids: Annotated[str, Opt(help="CSV columns for chrom, pos, ref, alt")] = "CHROM,POS,REF,ALT",
    table: Annotated[Optional[Path], Opt(help="per variant x gene x tissue table (.tsv or .parquet)")] = None,
    store: Annotated[Optional[Path], Opt(help="read reference scores from this precomputed store")] = None,
    dtype: Annotated[str, Opt(help="float32, bfloat16, float16 (GPU)")] = "float32",
    device: Annotated[str, Opt(help="cpu or cuda")] = "cpu",
    cluster: Annotated[str, Opt(help="none (this process), local, slurm or tcp://HOST:PORT")] = "none",
    workers: Annotated[int, Opt(help="Dask workers (with --cluster)")] = 1,
    batch: Annotated[int, Opt(help="records per task; nearby variants in a task share reference passes")] = 256,
    weights: WeightsOpt = None,
    quiet: Annotated[bool, Opt("--quiet", help="no progress bar")] = False,
) -> None:
    """Score variants as the official `pangolin` command does (INFO Pangolin=gene|pos:gain|pos:loss|Warnings:)."""
    from contextlib import nullcontext

    from .cluster import default_threads, make_client
    from .model.checkpoints import resolve_weights
    from .progress import CountProgress
    from .variants.score import SKIP_REASONS, ScoreOptions, ScorerSpec, cached_scorer, score_variants

    if distance < 1:
        raise typer.BadParameter("must be >= 1", param_hint="--distance")
    options = ScoreOptions(distance=distance, mask=not no_mask, score_cutoff=score_cutoff, score_exons=score_exons,
                           tags=tuple(tags) if tags else ScoreOptions.tags, column_ids=column_ids)
    threads = default_threads(workers) if cluster != "none" else None
    spec = ScorerSpec(str(fasta.resolve()), str(annotation.resolve()), options, str(resolve_weights(weights, None)),
                      dtype, device, str(store.resolve()) if store else None, threads)
    scorer = cached_scorer(spec)  # checks every input here, before any worker starts
    client_context = make_client(cluster, workers) if cluster != "none" else nullcontext()
    with client_context as client, CountProgress("records", enabled=not quiet) as progress:
        counts = score_variants(variants, spec if client is not None else scorer, out, table, batch, client,
                                on_records=progress.total, on_chunk=progress.advance)
    skipped = {k: v for k, v in counts.items() if k != "scored"}
    for reason, n in sorted(skipped.items()):
        warnings.warn(f"{n} allele(s) not scored: {reason} ({SKIP_REASONS.get(reason, reason)})", stacklevel=1)
    _say(f"{counts['scored']} allele(s) scored, {sum(skipped.values())} not scored; all records written to {out}")


@app.command()
def bench(
    fasta: Annotated[Optional[Path], Opt(help="FASTA to take real sequence from")] = None,
    region: Annotated[str, Opt(help="region scored by the fast float32 engine")] = "chr22:32,040,001-32,150,000",
    reference_bases: Annotated[int, Opt(help="bases scored by the slower configurations")] = 10_000,
    dtype: Annotated[Optional[list[str]], Opt("--dtype", help="dtypes to measure [float32, bfloat16]")] = None,
    device: Annotated[str, Opt(help="cpu or cuda")] = "cpu",
    variants: Annotated[int, Opt(help="also time variant scoring on this many ClinVar BRCA1 SNVs")] = 0,
    variants_dtype: Annotated[Optional[str], Opt(help="with --variants: also this dtype, and its agreement")] = None,
    queries: Annotated[bool, Opt("--queries", help="query latency on a whole-chromosome layout store")] = False,
    queries_store: Annotated[Optional[Path], Opt(help="query latency on this store instead")] = None,
    weights: WeightsOpt = None,
) -> None:
    """Measure peak FLOP/s and the engines' nucleotides/s, speed-up and error (prints a table)."""
    from .bench import bench_variants, format_report, run_bench
    from .genome.fasta import Reference
    from .regions import parse_region

    data = Path(__file__).resolve().parents[1].parent / "shared" / "data"
    if queries or queries_store:
        from .bench_queries import bench_queries

        typer.echo(bench_queries(queries_store))
        return
    if variants:
        brca = data / "grch37-brca1"
        typer.echo(bench_variants(str(brca / "clinvar_20180701.BRCA1.vcf"), str(brca / "chr17.fa.gz"),
                                  str(brca / "canonical.gtf"), weights, max(2, variants // 20), variants,
                                  variants_dtype))
        return
    fasta = fasta or data / "grch38-chr22" / "chr22.fa.gz"
    parsed = parse_region(region)
    seq = Reference(fasta).fetch(parsed.chrom, parsed.start - 5000, (parsed.end or parsed.start + 1) + 5000)
    default = ("float32", "bfloat16") if device == "cpu" else ("float32", "bfloat16", "float16")
    peaks, results = run_bench(seq, reference_bases, weights, device, tuple(dtype or default))
    typer.echo(format_report(peaks, results))


StoreArg = Annotated[Path, typer.Argument(help="a store made by `run`")]


@app.command()
def query(
    store: StoreArg,
    target: Annotated[str, typer.Argument(help="REGION (chr:start-end, 1-based) or GENE name/id")],
    strand: Annotated[Optional[str], Opt(help="+ or - (default: the gene's strand, or both)")] = None,
    tissue: Annotated[Optional[list[str]], Opt("--tissue", help="tissues to keep (repeatable)")] = None,
    fmt: Annotated[str, Opt("--format", help="tsv, csv, parquet or json")] = "tsv",
    out: Annotated[Optional[Path], Opt(help="output file (default: stdout)")] = None,
) -> None:
    """Per-position scores of a region or gene; NaN (unscored) is written as NA."""
    from .query import Store, to_table

    if fmt not in ("tsv", "csv", "parquet", "json"):
        raise typer.BadParameter("must be tsv, csv, parquet or json", param_hint="--format")
    table = to_table(Store(store).select(target, strand, tissue))
    if fmt == "parquet":
        if out is None:
            raise typer.BadParameter("parquet needs --out FILE", param_hint="--out")
        table.to_parquet(out, index=False)
    elif fmt == "json":
        text = table.to_json(orient="records")
        (out.write_text(text) if out else typer.echo(text))
    else:
        handle = open(out, "w") if out else sys.stdout
        handle.write("# 1-based positions; NA = not scored\n")
        table.to_csv(handle, sep="\t" if fmt == "tsv" else ",", index=False, na_rep="NA", float_format="%.6g")
        if out:
            handle.close()


@app.command()
def export(
    store: StoreArg,
    out: Annotated[Path, Opt(help="output directory")],
    fmt: Annotated[str, Opt("--format", help="bigwig or bedgraph")] = "bigwig",
    tissue: Annotated[Optional[list[str]], Opt("--tissue", help="tissues (repeatable; default all)")] = None,
    metric: Annotated[Optional[list[str]], Opt("--metric", help="p_splice and/or usage (default both)")] = None,
) -> None:
    """Genome-browser tracks: {tissue}.{metric}.{plus|minus}.bw or .bedgraph; unscored bases are gaps."""
    from .export import export_tracks

    if fmt not in ("bigwig", "bedgraph"):
        raise typer.BadParameter("must be bigwig or bedgraph", param_hint="--format")
    paths = export_tracks(store, out, fmt, tissue, metric)
    _say(f"wrote {len(paths)} {fmt} files to {out}")


@app.command()
def plot(
    store: StoreArg,
    target: Annotated[str, typer.Argument(help="REGION or GENE")],
    out: Annotated[Path, Opt(help="PNG, SVG or PDF")],
    strand: Annotated[Optional[str], Opt(help="+ or - (default: the gene's strand)")] = None,
) -> None:
    """Plot P(splice) and usage per tissue along a region, with the gene models underneath."""
    from .plot import plot_region

    _say(f"wrote {plot_region(store, target, out, strand)}")


def _one_line_warnings(message, category, filename, lineno, file=None, line=None) -> None:
    _say(f"warning: {message}")


def main() -> None:
    """Entry point: bad input ends with one line on stderr and a non-zero exit, not a traceback."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("always", UserWarning)  # ours: counts of skipped input, one line each
            warnings.showwarning = _one_line_warnings
            code = app(standalone_mode=False)  # click returns (not raises) the code of typer.Exit here
        if isinstance(code, int) and code:
            sys.exit(code)
    except PipelineError as err:
        if _DEBUG["on"]:
            raise
        _say(f"error: {err}")
        sys.exit(2)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except typer.Abort:
        _say("aborted")
        sys.exit(130)
    except Exception as err:  # click usage errors and the like
        import click

        if isinstance(err, click.ClickException):
            err.show()
            sys.exit(err.exit_code)
        if _DEBUG["on"]:
            raise
        _say(f"error: {type(err).__name__}: {err} (rerun with --debug for the traceback)")
        sys.exit(1)
