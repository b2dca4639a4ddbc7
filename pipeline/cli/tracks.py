"""Commands over a finished track store: query, export, plot."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from . import Opt, _say, app

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
    from ..tracks.query import Store, to_table

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
    out: Annotated[Path, Opt(help="output directory (bigwig, bedgraph) or FILE.vcf.gz (vcf)")],
    fmt: Annotated[str, Opt("--format", help="bigwig or bedgraph (track store), vcf (all-SNV store)")] = "bigwig",
    tissue: Annotated[Optional[list[str]], Opt("--tissue", help="tissues (repeatable; default all)")] = None,
    metric: Annotated[Optional[list[str]], Opt("--metric", help="p_splice and/or usage (default both)")] = None,
) -> None:
    """Genome-browser tracks: {tissue}.{metric}.{plus|minus}.bw or .bedgraph; unscored bases are gaps.
    From an all-SNV store: one VCF record per SNV, bgzipped and tabix-indexed."""
    from ..tracks.export import export_tracks

    if fmt == "vcf":
        from ..snvs.export import export_vcf
        from ..store.snv_reader import SnvReader

        _say(f"wrote {export_vcf(SnvReader(store), out):,} SNV records to {out} (+ .tbi)")
        return
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
    from ..tracks.plot import plot_region

    _say(f"wrote {plot_region(store, target, out, strand)}")


