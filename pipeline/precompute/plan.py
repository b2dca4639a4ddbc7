"""Planning a run: genes -> per-strand intervals -> tiles, and the identity of the store it makes."""

from __future__ import annotations

import warnings
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from ..config import RunConfig
from ..errors import AnnotationError, ContigNotFound
from ..genome.annotation import GeneFilter, read_genes
from ..genome.contigs import match_contig
from ..genome.digest import sha256_file
from ..genome.fasta import Reference
from ..model.config import ModelConfig
from ..model.spec import ModelSpec
from ..store.identity import StoreIdentity
from ..store.layout import FORMAT_VERSION, create_store
from .driver import Plan
from .heads import plan_heads
from .job import Job
from .tiling import make_tiles


def genes_on_reference(genes: pd.DataFrame, reference: Reference) -> pd.DataFrame:
    """Genes with chrom renamed to the FASTA's names; genes on absent contigs dropped with one warning."""
    names = {}
    for chrom in genes.chrom.unique():
        try:
            names[chrom] = match_contig(chrom, reference.lengths)
        except ContigNotFound:
            names[chrom] = None
    mapped = genes.chrom.map(names)
    missing = genes[mapped.isna()]
    if len(missing):
        contigs = ", ".join(sorted(missing.chrom.unique())[:5])
        warnings.warn(
            f"{len(missing)} gene(s) on {missing.chrom.nunique()} contig(s) absent from the FASTA were "
            f"skipped ({contigs}...)", stacklevel=2,
        )
    genes = genes[mapped.notna()].assign(chrom=mapped[mapped.notna()])
    if genes.empty:
        raise AnnotationError(
            "no gene lies on a contig of the FASTA: do the annotation's contig names match the FASTA's "
            f"({', '.join(list(reference.lengths)[:3])}...)?"
        )
    return _within_sequence(genes, reference.lengths).reset_index(drop=True)


def _within_sequence(genes: pd.DataFrame, lengths: dict[str, int]) -> pd.DataFrame:
    """Drop genes that start past their contig's sequence (empty or shorter contig: another assembly?)
    and warn about genes that run past it (scored up to the end); error if none is left."""
    length = genes.chrom.map(lengths)
    outside, overhang = genes.start >= length, (genes.start < length) & (genes.end > length)
    if outside.any():
        warnings.warn(f"{int(outside.sum())} gene(s) start past the end of their contig's sequence in the FASTA "
                      f"(e.g. {genes[outside].gene_id.iloc[0]} on {genes[outside].chrom.iloc[0]}, "
                      f"{int(length[outside].iloc[0]):,} bases) and were skipped: is this the annotation's assembly?",
                      stacklevel=3)
    if overhang.any():
        warnings.warn(f"{int(overhang.sum())} gene(s) run past the end of their contig; scored up to the end",
                      stacklevel=3)
    if outside.all():
        raise AnnotationError("every gene lies past the end of its contig's sequence in the FASTA: "
                              "annotation and FASTA are from different assemblies?")
    return genes[~outside]


def model_spec(config: RunConfig) -> ModelSpec:
    """The run's ensemble, with weights resolved in the documented order (flag, environment, config file)."""
    return ModelSpec.resolve(config.weights_flag, config.weights, ensemble=config.ensemble, engine=config.engine,
                             dtype=config.dtype, device=config.device, memory_gb=config.memory_gb,
                             threads=config.threads_per_worker)


def plan_genes(config: RunConfig, reference: Reference) -> pd.DataFrame:
    """The annotation's genes that pass the filters, on the FASTA's contigs (and ``chroms``, if given)."""
    gene_filter = GeneFilter(config.gene_types, config.tags, (), config.margin)
    genes = genes_on_reference(read_genes(config.annotation, gene_filter), reference)
    if config.chroms:
        wanted = {reference.resolve(c) for c in config.chroms}
        genes = genes[genes.chrom.isin(wanted)].reset_index(drop=True)
        if genes.empty:
            raise AnnotationError(f"no genes on chromosomes {', '.join(config.chroms)} after filters")
    return genes


def input_identity(config: RunConfig, reference: Reference, model: ModelSpec) -> dict[str, Any]:
    """Identity fields shared by every product: ensemble, checkpoints, reference, annotation."""
    return {"format_version": FORMAT_VERSION, "ensemble": model.ensemble, "compute_dtype": model.dtype,
            "checkpoints": model.checksums(), "reference": {"digest": reference.digest(), "contigs": reference.lengths},
            "annotation": {"digest": sha256_file(config.annotation),
                           "filters": {"gene_types": list(config.gene_types), "tags": list(config.tags),
                                       "chroms": list(config.chroms), "margin": config.margin}}}


def plan_tracks(config: RunConfig) -> Plan:
    """Read the FASTA index and annotation, cut tiles, and describe the track store to make."""
    config.require("fasta", "annotation", "out")
    reference = Reference(config.fasta)
    genes = plan_genes(config, reference)
    lengths = {c: reference.lengths[c] for c in sorted(genes.chrom.unique(), key=list(reference.lengths).index)}
    tiles = []
    for (chrom, strand), group in genes.groupby(["chrom", "strand"], sort=False):
        tiles += make_tiles(chrom, strand, list(zip(group.start, group.end)), lengths[chrom], config.tile_size)
    model = model_spec(config)
    heads = plan_heads(config.heads, model)
    identity = StoreIdentity(
        **input_identity(config, reference, model), kind="track", dtype=config.store_dtype,
        tiling={"tile_size": config.tile_size, "chunk_size": config.chunk_size, "context": ModelConfig().context},
        settings={"heads": [{k: h[k] for k in ("digest", "task", "columns")} for h in heads]} if heads else {})
    job = Job("pipeline.precompute.task:score_track_tile", model, str(Path(config.fasta).absolute()),
              {"heads": heads} if heads else {})
    inputs = {"fasta": str(Path(config.fasta)), "annotation": str(Path(config.annotation))}
    create = partial(create_store, identity=identity.to_attrs(), genes=genes, lengths=lengths,
                     job=job.to_attrs(), inputs=inputs, heads=heads)
    return Plan(identity, tiles, job, create, {"genes": genes})
