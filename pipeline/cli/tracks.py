"""Commands over a finished track store: query, export, plot."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from . import Opt, _say, app

StoreArg = Annotated[str, typer.Argument(help="a store made by `run`: a path or a URL (https://, s3://, gs://)")]
CacheOpt = Annotated[Optional[str], Opt("--cache", metavar="DIR", show_default="none",
                                        help="keep what is read from a store URL here; repeated queries read it "
                                        "from disk (also $PANGOLIN_CACHE)")]
TABLE_FORMATS = ("tsv", "csv", "parquet", "json")


@app.command()
def query(
    store: StoreArg,
    target: Annotated[str, typer.Argument(help="REGION (chr:start-end, 1-based) or GENE name/id")],
    strand: Annotated[Optional[str], Opt(show_default="the gene's strand, or both", help="+ or -")] = None,
    tissue: Annotated[Optional[list[str]], Opt("--tissue", metavar="TISSUE", show_default="all",
                                               help="tissues to keep (repeatable)")] = None,
    fmt: Annotated[Optional[str], Opt("--format", metavar="NAME", show_default="from --out's name, else tsv",
                                      help="tsv, csv, parquet or json")] = None,
    out: Annotated[Optional[str], Opt("--out", "-o", metavar="FILE", show_default="stdout",
                                      help="output file (.gz: BGZF-compressed); - for stdout")] = None,
    cache: CacheOpt = None,
) -> None:
    """Per-position scores of a region or gene, one row per position and strand.

    Columns: chrom, position (1-based), strand, then {tissue}_p_splice and {tissue}_usage. TSV and
    CSV have one header row and nothing else, so pandas, R (read.delim / read.csv) and csvtk read
    them with their defaults; unscored positions are NA (null in JSON and Parquet).
    """
    from ..outputs import OutputFile
    from ..store.location import use_cache
    from ..tracks.query import to_table, write_table
    from ..tracks.reader import TrackReader

    use_cache(cache)
    fmt = fmt or table_format(out)
    if fmt not in TABLE_FORMATS:
        raise typer.BadParameter(f"must be {', '.join(TABLE_FORMATS)}; got {fmt!r}", param_hint="--format")
    output = OutputFile(out or "-", "--out")
    table = to_table(TrackReader(store).select(target, strand, tissue))
    with output.open(binary=fmt == "parquet") as handle:
        write_table(table, fmt, handle)


def table_format(out: str | None) -> str:
    """The table format a file name asks for (``x.csv``, ``x.csv.gz``, ``x.parquet``...), else tsv."""
    name = (out or "").lower().removesuffix(".gz").removesuffix(".bgz")
    return next((fmt for fmt in TABLE_FORMATS if name.endswith(f".{fmt}")), "tsv")


@app.command()
def export(
    store: StoreArg,
    out: Annotated[str, Opt("--out", "-o", metavar="DIR|FILE",
                            help="output directory (created if needed); for vcf a .vcf.gz, .bcf or .vcf file")],
    fmt: Annotated[str, Opt("--format", help="bigwig, bedgraph (track store) or vcf (all-SNV store)")] = "bigwig",
    tissue: Annotated[Optional[list[str]], Opt("--tissue", metavar="TISSUE", show_default="all",
                                               help="tissues (repeatable)")] = None,
    metric: Annotated[Optional[list[str]], Opt("--metric", metavar="NAME", show_default="both",
                                               help="p_splice and/or usage (repeatable)")] = None,
) -> None:
    """Genome-browser tracks: {tissue}.{metric}.{plus|minus}.bw or .bedgraph; unscored bases are gaps.
    From an all-SNV store: one VCF record per SNV with the official Pangolin= string and typed fields
    (PangolinGain, PangolinLoss, PangolinLargestDS, per tissue with --per-tissue stores), sorted;
    .vcf.gz is BGZF with a .tbi index, .bcf gets a .csi."""
    from ..outputs import check_output_dir
    from ..tracks.export import export_tracks

    if fmt == "vcf":
        from ..outputs import VCF_SUFFIXES, OutputFile
        from ..snvs.export import export_vcf
        from ..snvs.reader import SnvReader

        output = OutputFile(out, "--out", VCF_SUFFIXES)
        output.index = output.compression is not None and not output.stream  # a file a tool can seek in
        n = export_vcf(SnvReader(store), output)
        _say(f"wrote {n:,} SNV records to {output}" + (" (+ index)" if output.index else ""))
        return
    check_output_dir(out)  # before the store is read
    paths = export_tracks(store, out, fmt, tissue, metric)
    _say(f"wrote {len(paths)} {fmt} files to {out}")


@app.command()
def plot(
    store: StoreArg,
    target: Annotated[str, typer.Argument(help="REGION (chr:start-end, 1-based) or GENE name/id")],
    out: Annotated[Path, Opt("--out", "-o", metavar="FILE", help="figure file: .png, .svg, .pdf, ...")],
    strand: Annotated[Optional[str], Opt(show_default="the gene's strand, or the strands of the genes in view",
                                         help="+ or -")] = None,
) -> None:
    """Plot P(splice) and usage per tissue along a region (exactly its span), with the gene models underneath.

    P(splice) sits near 0.05 everywhere: that floor is a thin grey line and bars start at 0.1. With
    genes of both strands in view, + is drawn upwards and - downwards. A view with nothing scored
    in it is an error.
    """
    from ..outputs import OutputFile
    from ..tracks.plot import check_figure_path, plot_region

    OutputFile(check_figure_path(out))
    _say(f"wrote {plot_region(store, target, out, strand)}")
