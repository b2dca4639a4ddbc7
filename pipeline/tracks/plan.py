"""The splice-track product's plan: the annotation's genes (filtered) -> per-strand tiles, the store's
identity, its tile task; and `init_tracks` / `run_tracks`, the `init` and `run` commands' work."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import pandas as pd

from ..config import RunConfig
from ..errors import AnnotationError
from ..genome.annotation import GeneFilter, read_genes
from ..genome.fasta import Reference
from ..genome.genes import genes_on_reference
from ..model.config import ModelConfig
from ..precompute.driver import Progress, execution_of, init_plan, run_plan
from ..precompute.job import Job
from ..precompute.plan import Plan, input_identity, model_spec
from ..precompute.tiling import make_tiles
from ..store.identity import StoreIdentity
from ..store.tile import Tile
from .heads import plan_heads
from .layout import create_store
from .task import TrackTile


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
    job = Job(TrackTile(tuple(heads)), model, str(Path(config.fasta).absolute()))
    inputs = {"fasta": str(Path(config.fasta)), "annotation": str(Path(config.annotation))}
    create = partial(create_store, identity=identity.to_attrs(), genes=genes, lengths=lengths,
                     job=job.to_attrs(), inputs=inputs, heads=heads)
    return Plan(identity, tiles, job, create, {"genes": genes})


def init_tracks(config: RunConfig, overwrite: bool = False) -> dict:
    """Create (or check) a track store and its tile list; return its status."""
    return init_plan(plan_tracks(config), Path(config.out), overwrite)


def run_tracks(config: RunConfig, overwrite: bool = False, on_done: Progress | None = None,
               on_start: Callable[[str], None] | None = None,
               on_plan: Callable[[list[Tile], dict], None] | None = None) -> dict:
    """Run (or resume) a splice-track precompute; return the store's status with throughput figures."""
    return run_plan(plan_tracks(config), Path(config.out), execution_of(config), overwrite, on_done, on_start, on_plan)
