"""The splice-track product's tile task: P(splice) and usage (and fine-tuned heads' outputs) of every
requested base of one strand's shard."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..genome.encode import count_ambiguous
from ..precompute.job import Job, cached_reference
from ..precompute.tiling import windows
from ..store.tile import Tile
from ..store.writes import write_values
from .heads import load_heads
from .kernel import track_kernel

STRAND_INDEX = {"+": 0, "-": 1}


@dataclass(frozen=True)
class TrackTile:
    """Options of a track store's tiles: the fine-tuned heads scored beside the tracks (`plan_heads`)."""

    heads: tuple[dict[str, Any], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "heads", tuple(self.heads))  # a list when read back from the store

    def __call__(self, store: Path, tile: Tile, job: Job) -> dict[str, Any]:
        ensemble = job.model.load()
        reference = cached_reference(job.fasta)
        flank = ensemble.context // 2
        spans = windows(tile.segments, ensemble.context)
        sequences = [reference.fetch(tile.chrom, start - flank, end + flank) for start, end in spans]
        arrays = track_kernel(ensemble, tile, spans, sequences, load_heads(list(self.heads), job.model))
        for name, values in arrays.items():
            write_values(store, f"{tile.chrom}/{name}", (STRAND_INDEX[tile.strand], slice(tile.start, tile.end)),
                         values)
        return {"ambiguous": sum(count_ambiguous(s) for s in sequences)}
