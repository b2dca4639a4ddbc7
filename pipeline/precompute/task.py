"""One tile end to end: the product's task reads and scores it, writes its shard; then it is marked done.

`run_tile` is a plain function of small arguments (store path, tile, job), so it runs the same inline,
through ``client.submit`` on Dask workers, or in a SLURM array task. Each process caches its own
ensemble (`ModelSpec.load`) and FASTA handle (`cached_reference`). Nothing here imports Dask.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from ..genome.encode import count_ambiguous
from ..store.manifest import Manifest
from ..store.tile import Tile
from ..store.writes import write_values
from .heads import load_heads
from .job import Job, cached_reference
from .kernels import track_kernel
from .tiling import windows

STRAND_INDEX = {"+": 0, "-": 1}


def run_tile(store: str, tile: dict | Tile, job: dict | Job) -> dict[str, Any]:
    """Score one tile with its store's task and mark it done (only after its data is on disk)."""
    tile = tile if isinstance(tile, Tile) else Tile.from_dict(tile)
    job = job if isinstance(job, Job) else Job.from_attrs(job)
    started = time.perf_counter()
    summary = job.tile_task()(Path(store), tile, job)
    Manifest(Path(store)).mark_done(tile.id)
    return {"tile": tile.id, "bases": tile.bases, **summary, "seconds": round(time.perf_counter() - started, 3),
            "host": os.uname().nodename}


def score_track_tile(store: Path, tile: Tile, job: Job) -> dict[str, Any]:
    """The splice-track task: P(splice) and usage of every requested base of one strand's shard."""
    ensemble = job.model.load()
    reference = cached_reference(job.fasta)
    flank = ensemble.context // 2
    spans = windows(tile.segments, ensemble.context)
    sequences = [reference.fetch(tile.chrom, start - flank, end + flank) for start, end in spans]
    arrays = track_kernel(ensemble, tile, spans, sequences, load_heads(job.options.get("heads", []), job.model))
    for name, values in arrays.items():
        write_values(store, f"{tile.chrom}/{name}", (STRAND_INDEX[tile.strand], slice(tile.start, tile.end)), values)
    return {"ambiguous": sum(count_ambiguous(s) for s in sequences)}
