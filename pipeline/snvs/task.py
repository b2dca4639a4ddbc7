"""One tile of an all-SNV store: read its blocks of sequence, run the kernel, write the shard."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import zarr

from ..genome.encode import count_ambiguous, one_hot
from ..genome.gene_table import annotated_sites, genes_from_attrs
from ..model.config import ModelConfig
from ..precompute.job import Job, cached_reference
from ..store.tile import Tile
from ..store.writes import write_values
from .certify import Certifier
from .kernel import GeneSites, snv_kernel
from .layout import FILLS

BLOCK = 1_000  # positions per kernel call: bounds the (SNVs x 2d+1 x 12) deltas held at once


@lru_cache(maxsize=2)
def gene_sites(store: str) -> dict[str, list[GeneSites]]:
    """Per chromosome, the store's genes in the official order (plus strand first, then by start)."""
    genes = genes_from_attrs(zarr.open_group(store, mode="r").attrs["genes"])
    by_chrom: dict[str, list[GeneSites]] = {}
    for row, gene in genes.sort_values(["strand", "start"], kind="stable").iterrows():
        by_chrom.setdefault(gene.chrom, []).append(GeneSites(int(row), gene.strand, int(gene.start), int(gene.end),
                                                             annotated_sites(gene)))
    return by_chrom


def blocks(segments: tuple[tuple[int, int], ...], size: int) -> list[tuple[int, int]]:
    return [(s, min(s + size, end)) for start, end in segments for s in range(start, end, size)]


@dataclass(frozen=True)
class SnvTile:
    """Options of an all-SNV store's tiles: `score`'s distance and masking, per-tissue deltas, and the
    store's gene slots per position."""

    distance: int
    mask: bool
    per_tissue: bool
    slots: int

    def __call__(self, store: Path, tile: Tile, job: Job) -> dict[str, Any]:
        """Every SNV of the tile's segments, summarised per gene, written into the tile's shard."""
        ensemble, reference = job.model.load(), cached_reference(job.fasta)
        certified = None
        if job.model.dtype != "float32":  # half precision, certified: float32 where it cannot promise its values
            bound = Certifier.for_compute(job.model.dtype, job.model.device)
            certified = bound, replace(job.model, dtype="float32").load()
        d = self.distance
        flank = ModelConfig().flank
        genes = gene_sites(str(store)).get(tile.chrom, [])
        length = tile.end - tile.start
        arrays: dict[str, np.ndarray] = {"ref": np.zeros(length, dtype=np.uint8)}
        ambiguous = snvs = recomputed = exceeded = 0
        for start, end in blocks(tile.segments, BLOCK):
            seq = reference.fetch(tile.chrom, start - d - flank, end + d + flank)
            ref_bases = seq[d + flank : d + flank + end - start].upper().encode()
            ambiguous += count_ambiguous(ref_bases)
            inside = [g for g in genes if g.start < end and start < g.end]
            values, counts = snv_kernel(ensemble, start, ref_bases, one_hot(seq), inside, self.slots, d, self.mask,
                                        self.per_tissue, certified)
            recomputed, exceeded = recomputed + counts["recomputed"], exceeded + counts["bound_exceeded"]
            for name, block in values.items():
                if name not in arrays:
                    arrays[name] = np.full((length, *block.shape[1:]), FILLS[name], dtype=block.dtype)
                arrays[name][start - tile.start : end - tile.start] = block
            scored = np.frombuffer(ref_bases, dtype=np.uint8).copy()
            scored[~np.isin(scored, np.frombuffer(b"ACGT", dtype=np.uint8))] = 0
            arrays["ref"][start - tile.start : end - tile.start] = scored
            snvs += 3 * int(np.count_nonzero(scored))
        for name, values in arrays.items():
            write_values(store, f"{tile.chrom}/{name}", (slice(tile.start, tile.end),), values)
        summary = {"snvs": snvs, "ambiguous": ambiguous}
        if certified:
            summary.update(recomputed=recomputed, bound_exceeded=exceeded)
        return summary
