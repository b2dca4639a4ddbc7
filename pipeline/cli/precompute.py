"""Commands that build and inspect a track store: run, init, run-tiles, finalize, status."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from . import ConfigOpt, Opt, WeightsOpt, _say, app


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
    from ..config import load_config
    from ..precompute.driver import run as run_pipeline
    from ..progress import RunProgress

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
    from ..config import load_config
    from ..precompute.driver import init as init_store

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
    from ..precompute.driver import run_part

    summaries = run_part(store, part - 1 if one_based else part, parts, threads)
    _say(f"part {part}/{parts}: {len(summaries)} tiles, {sum(s['bases'] for s in summaries):,} bases")


@app.command()
def finalize(store: Annotated[Path, typer.Argument(help="a store made by `init` or `run`")]) -> None:
    """Check every tile is done; list the missing ones and exit 1 if any."""
    from ..store.consolidated import consolidate
    from ..store.layout import read_identity
    from ..store.manifest import Manifest

    read_identity(store)
    consolidate(store)
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
    from ..store.layout import read_identity
    from ..store.manifest import Manifest

    read_identity(store)
    info = Manifest(store).status()
    if as_json:
        typer.echo(json.dumps(info))
        return
    done, total = info["bases_done"], info["bases_total"]
    typer.echo(f"tiles {info['tiles_done']}/{info['tiles_total']}, bases {done:,}/{total:,}")
    if info["missing"]:
        typer.echo("missing: " + " ".join(info["missing"][:20]) + (" ..." if len(info["missing"]) > 20 else ""))


