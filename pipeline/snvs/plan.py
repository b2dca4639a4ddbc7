"""Planning an all-SNV store: genes as `score` reads them, regions, tiles on a shard grid, identity."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import RunConfig
from ..errors import AnnotationError, ConfigError
from ..genome.fasta import Reference
from ..genome.genes import genes_on_reference
from ..precompute.job import Job
from ..precompute.plan import Plan, input_identity, model_spec
from ..precompute.tiling import make_tiles
from ..store.identity import StoreIdentity
from ..variants.scorer import ScoreOptions, load_genes
from .certify import Certifier
from .layout import create_snv_store
from .regions import describe_regions, snv_intervals
from .task import SnvTile

TILE_SIZE, CHUNK_SIZE = 65_536, 4_096  # positions per shard (one tile of work) and per chunk


@dataclass(frozen=True)
class SnvOptions:
    """What the store holds: regions (``exons:N``, ``genes`` or a BED path) and `score`'s options."""

    regions: str = "exons:50"
    distance: int = 50
    mask: bool = True
    per_tissue: bool = False
    # transcripts whose exons mask (and define exons:N); `plan_snvs` records those used (`mask_tags`)
    tags: tuple[str, ...] = ScoreOptions.tags

    def __post_init__(self) -> None:
        if not 1 <= self.distance <= 5_000:
            raise ConfigError(f"distance must be in 1..5000, got {self.distance}")

    def score_options(self) -> ScoreOptions:
        return ScoreOptions(distance=self.distance, mask=self.mask, tags=self.tags)

    def settings(self) -> dict:
        return {**describe_regions(self.regions), "distance": self.distance, "mask": self.mask,
                "per_tissue": self.per_tissue, "tags": list(self.tags)}


def max_overlap(genes: pd.DataFrame) -> int:
    """The largest number of gene bodies containing one position (the store's gene slots)."""
    deepest = 1
    for _, group in genes.groupby("chrom"):
        events = np.concatenate([np.stack([group.start, np.ones(len(group))], 1),
                                 np.stack([group.end, -np.ones(len(group))], 1)])
        events = events[np.lexsort((events[:, 1], events[:, 0]))]  # ends before starts at the same position
        deepest = max(deepest, int(np.cumsum(events[:, 1]).max()))
    return deepest


def plan_snvs(config: RunConfig, options: SnvOptions) -> Plan:
    """Tiles of every position to saturate, and the store they fill."""
    config.require("fasta", "annotation", "out")
    model = model_spec(config)
    if model.ensemble != "official" or model.engine != "fast":
        raise ConfigError("the all-SNV store holds `score`'s output: it needs ensemble official and engine fast")
    if config.heads:
        raise ConfigError("fine-tuned heads add variables to track stores (`run --head`), not to the all-SNV store")
    certified = None
    if model.dtype != "float32":  # stored values certified equal to float32's (certify.py)
        if options.per_tissue:
            raise ConfigError(f"--per-tissue stores unrounded deltas, which {model.dtype} cannot give as float32 "
                              "does: use --dtype float32")
        certified = Certifier.for_compute(model.dtype, model.device).identity()
    reference = Reference(config.fasta)
    genes = load_genes(config.annotation, options.score_options())
    options = replace(options, tags=genes.attrs["mask_tags"])  # the store records the tags that mask, not the default
    settings = options.settings() | ({"certified": certified} if certified else {})
    genes = genes_on_reference(genes, reference)
    if config.chroms:
        wanted = {reference.resolve(c) for c in config.chroms}
        genes = genes[genes.chrom.isin(wanted)].reset_index(drop=True)
    intervals = snv_intervals(genes, options.regions, reference.lengths)
    if not intervals:
        raise AnnotationError(f"no position to score: regions {options.regions!r} lie in no gene body")
    lengths = {c: reference.lengths[c] for c in sorted(intervals, key=list(reference.lengths).index)}
    tiles = [t for chrom, spans in intervals.items() for t in make_tiles(chrom, ".", spans, lengths[chrom],
                                                                          config.tile_size)]
    slots = max_overlap(genes)
    identity = StoreIdentity(**input_identity(config, reference, model), kind="snv", dtype="int8",
                             tiling={"tile_size": config.tile_size, "chunk_size": config.chunk_size, "slots": slots},
                             settings=settings)
    job = Job(SnvTile(options.distance, options.mask, options.per_tissue, slots), model,
              str(Path(config.fasta).absolute()))
    inputs = {"fasta": str(Path(config.fasta)), "annotation": str(Path(config.annotation))}
    create = partial(create_snv_store, identity=identity.to_attrs(), genes=genes, lengths=lengths, slots=slots,
                     job=job.to_attrs(), inputs=inputs)
    return Plan(identity, tiles, job, create, {"snvs": 3 * sum(t.bases for t in tiles)})
