"""Variant scoring: the official `pangolin` command's job."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from . import KernelOpt, MaskTagsOpt, Opt, QuietOpt, SkipMalformedOpt, WeightsNoConfigOpt, _say, app


@app.command()
def score(
    variants: Annotated[Path, typer.Argument(help="VCF (.vcf, .vcf.gz, .bcf) or CSV of variants")],
    fasta: Annotated[Path, Opt(help="reference FASTA")],
    annotation: Annotated[Path, Opt(help="GTF or GFF3 with genes, transcripts and exons")],
    out: Annotated[str, Opt("--out", "-o", metavar="FILE",
                            help="output: .vcf, .vcf.gz (BGZF), .bcf, or .csv for CSV input; - for stdout")],
    distance: Annotated[int, Opt("--distance", "-d", help="bases either side of the variant")] = 50,
    no_mask: Annotated[bool, Opt("--no-mask", help="keep gains at annotated and losses at unannotated sites")] = False,
    score_cutoff: Annotated[Optional[float], Opt("--score-cutoff", "-s", metavar="X", show_default="none: the largest "
                                                 "gain and loss", help="report all sites with |delta| >= X")] = None,
    score_exons: Annotated[bool, Opt("--score-exons", help="both splice sites of nearby exons")] = False,
    tags: MaskTagsOpt = None,
    column_ids: Annotated[str, Opt(help="CSV columns for chrom, pos, ref, alt")] = "CHROM,POS,REF,ALT",
    table: Annotated[Optional[str], Opt(metavar="FILE", show_default="none",
                                        help="per variant x gene x tissue table (.tsv, .tsv.gz or .parquet)")] = None,
    index: Annotated[bool, Opt("--index", help="index the output (.tbi for .vcf.gz, .csi for .bcf); "
                               "the input must be sorted")] = False,
    skip_malformed: SkipMalformedOpt = False,
    store: Annotated[Optional[str], Opt(metavar="DIR|URL", show_default="none: computed",
                                        help="read reference scores from this precomputed store")] = None,
    snv_store: Annotated[Optional[str], Opt(metavar="DIR|URL", show_default="none",
                                            help="answer SNVs from this all-SNV store (made by `saturate`)")] = None,
    dtype: Annotated[str, Opt(help="float32, bfloat16, float16 (GPU)")] = "float32",
    device: Annotated[str, Opt(help="cpu or cuda")] = "cpu",
    kernel: KernelOpt = None,
    cluster: Annotated[str, Opt(help="none (this process), local, slurm or tcp://HOST:PORT")] = "none",
    workers: Annotated[int, Opt(help="Dask workers (with --cluster)")] = 1,
    batch: Annotated[int, Opt(help="records per task; nearby variants in a task share reference passes")] = 256,
    weights: WeightsNoConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Score variants as the official `pangolin` command does (INFO Pangolin=gene|pos:gain|pos:loss|Warnings:)."""
    from ..errors import WeightsError
    from ..model.spec import ModelSpec
    from ..outputs import VCF_SUFFIXES, OutputFile
    from ..progress import CountProgress
    from ..store.location import absolute
    from ..variants.driver import ScoreJob, score_file
    from ..variants.scorer import ScoreOptions

    if distance < 1:
        raise typer.BadParameter("must be >= 1", param_hint="--distance")
    if workers < 1:
        raise typer.BadParameter("must be >= 1", param_hint="--workers")
    csv = variants.suffix.lower() == ".csv"
    output = OutputFile(out, "--out", (".csv", ".csv.gz") if csv else VCF_SUFFIXES, index)
    table_output = OutputFile(table, "--table", (".tsv", ".tsv.gz", ".parquet")) if table else None
    options = ScoreOptions(distance=distance, mask=not no_mask, score_cutoff=score_cutoff, score_exons=score_exons,
                           tags=tuple(tags) if tags else ScoreOptions.tags, column_ids=column_ids)
    try:
        model = ModelSpec.resolve(weights, dtype=dtype, device=device, kernel=kernel or "auto")
    except WeightsError:
        if snv_store is None:
            raise
        model = None  # variants outside the all-SNV store will say that they need weights
    job = ScoreJob(str(fasta.absolute()), str(annotation.absolute()), options, model,
                   absolute(store) if store else None, absolute(snv_store) if snv_store else None)
    with CountProgress("records", enabled=not quiet) as progress:
        counts = score_file(variants, job, output, table_output, batch, cluster, workers, progress.total,
                            progress.advance, skip_malformed)
    skipped = sum(v for k, v in counts.items() if k not in ("scored", "from_store"))
    source = f" ({counts['from_store']} from {snv_store}, {counts['scored'] - counts['from_store']} computed)" \
        if snv_store else ""
    _say(f"{counts['scored']} allele(s) scored{source}, {skipped} not scored; all records written to {output}")
