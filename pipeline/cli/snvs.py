"""The all-SNV store: saturate (build), lookup (answer SNVs)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from . import ConfigOpt, KernelOpt, MaskTagsOpt, Opt, QuietOpt, SkipMalformedOpt, WeightsOpt, _say, app
from .tracks import CacheOpt


@app.command()
def saturate(
    config: ConfigOpt = None,
    fasta: Annotated[Optional[str], Opt(metavar="FILE", show_default="config", help="reference FASTA")] = None,
    annotation: Annotated[Optional[str], Opt(metavar="FILE", show_default="config",
                                             help="GTF or GFF3 (the one `score` would use)")] = None,
    out: Annotated[Optional[str], Opt(metavar="DIR", show_default="config", help="output all-SNV Zarr store")] = None,
    regions: Annotated[str, Opt(metavar="SPEC", help="exons:N (exons +/- N bases), genes, or a BED file")] = "exons:50",
    distance: Annotated[int, Opt("--distance", "-d", metavar="N",
                                 help="bases either side of each SNV, as `score`")] = 50,
    mask: Annotated[bool, Opt("--mask/--no-mask", help="the official masking, as `score`")] = True,
    per_tissue: Annotated[bool, Opt("--per-tissue", help="also store per-tissue P(splice)/usage gain and loss")
                          ] = False,
    tags: MaskTagsOpt = None,
    chrom: Annotated[Optional[list[str]], Opt("--chrom", metavar="NAME", show_default="all",
                                              help="only these chromosomes (repeatable)")] = None,
    tile_size: Annotated[Optional[int], Opt(metavar="N", show_default="65,536",
                                            help="positions per shard (= one tile of work)")] = None,
    dtype: Annotated[Optional[str], Opt(metavar="NAME", show_default="float32",
                                        help="compute dtype: float32, or bfloat16 (CPUs with AMX) / float16 "
                                        "(GPUs) certified equal to float32 (see the docs)")] = None,
    device: Annotated[Optional[str], Opt(metavar="NAME", show_default="cpu", help="cpu or cuda")] = None,
    kernel: KernelOpt = None,
    workers: Annotated[Optional[int], Opt(metavar="N", show_default="1", help="Dask workers")] = None,
    cluster: Annotated[Optional[str], Opt(metavar="NAME", show_default="local",
                                          help="local, cuda, slurm, none or tcp://HOST:PORT")] = None,
    weights: WeightsOpt = None,
    init_only: Annotated[bool, Opt("--init-only", help="create the store and tile list only (then run-tiles)")
                         ] = False,
    overwrite: Annotated[bool, Opt("--overwrite", help="replace a store made with other settings")] = False,
    quiet: QuietOpt = False,
) -> None:
    """Precompute every SNV of the chosen regions: what `score` prints for each, looked up without the model."""
    from ..config import load_config
    from ..precompute.driver import execution_of, init_plan, run_plan
    from ..progress import RunProgress
    from ..snvs.plan import CHUNK_SIZE, TILE_SIZE, SnvOptions, plan_snvs
    from ..store.summary import describe_run

    tile_size = TILE_SIZE if tile_size is None else tile_size
    cfg = load_config(config, fasta=fasta, annotation=annotation, out=out, chroms=tuple(chrom or ()),
                      tile_size=tile_size, chunk_size=min(CHUNK_SIZE, tile_size), dtype=dtype, device=device,
                      kernel=kernel, workers=workers, cluster=cluster, weights=weights)
    options = SnvOptions(regions, distance, mask, per_tissue, tuple(tags) if tags else SnvOptions.tags)
    plan = plan_snvs(cfg, options)
    if init_only:
        info = init_plan(plan, Path(cfg.out), overwrite)
        _say(f"store {cfg.out}: {info['tiles_total']} tiles, {plan.details['snvs']:,} SNVs")
        return
    with RunProgress(enabled=not quiet) as progress:
        status = run_plan(plan, Path(cfg.out), execution_of(cfg), overwrite, progress.advance, progress.dashboard,
                          progress.plan)
    _say(describe_run(cfg.out, status) + f" ({plan.details['snvs']:,} SNVs in the store)")
    if status.get("snvs_run"):
        share = status["snvs_recomputed"] / status["snvs_run"]
        # a pass in half precision plus float32 for most SNVs costs more than float32 alone (near splice sites)
        advice = "; --dtype float32 is faster where most SNVs are recomputed" if share > 0.5 else ""
        _say(f"certified {cfg.dtype}: {status['snvs_recomputed']:,} of {status['snvs_run']:,} SNVs ({share:.1%}) "
             f"recomputed in float32, where {cfg.dtype} could not promise float32's stored values{advice}")


@app.command()
def lookup(
    store: Annotated[str, typer.Argument(help="an all-SNV store made by `saturate`: a path or a URL")],
    snvs: Annotated[Optional[list[str]], typer.Argument(
        help="CHROM:POS:REF:ALT (1-based; also CHROM-POS-REF-ALT or 'CHROM:POS REF>ALT'), any number")] = None,
    vcf: Annotated[Optional[Path], Opt(metavar="FILE", show_default="none",
                                       help="annotate this VCF instead (needs --out)")] = None,
    out: Annotated[Optional[str], Opt("--out", "-o", metavar="FILE", show_default="none",
                                      help="output for --vcf: .vcf, .vcf.gz (BGZF), .bcf; - for stdout")] = None,
    index: Annotated[bool, Opt("--index", help="index the output (.tbi for .vcf.gz, .csi for .bcf); "
                               "the input must be sorted")] = False,
    skip_malformed: SkipMalformedOpt = False,
    cache: CacheOpt = None,
) -> None:
    """Scores of SNVs from an all-SNV store, as `score` writes them (no model, no weights)."""
    from ..outputs import VCF_SUFFIXES, OutputFile
    from ..snvs.annotate import REASONS, annotate_vcf, lookup_strings
    from ..snvs.reader import SnvReader
    from ..store.location import use_cache

    use_cache(cache)
    if vcf is not None:
        if out is None:
            raise typer.BadParameter("--vcf needs --out FILE", param_hint="--out")
        output = OutputFile(out, "--out", VCF_SUFFIXES, index)
        counts = annotate_vcf(SnvReader(store), vcf, output, skip_malformed=skip_malformed)
        answered = counts.pop("from_store", 0)
        _say(f"{answered} SNV allele(s) answered from {store}; not answered: "
             + (", ".join(f"{n} {k} ({REASONS.get(k, k)})" for k, n in sorted(counts.items())) or "none"))
        return
    if not snvs:
        raise typer.BadParameter("give SNVs as CHROM:POS:REF:ALT or --vcf FILE", param_hint="SNVS")
    for text, value, reason in lookup_strings(SnvReader(store), snvs):
        typer.echo(f"{text}\t{value if value is not None else 'NA'}\t{reason or ''}".rstrip("\t"))
