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

from ..store.manifest import Manifest
from ..store.tile import Tile
from .job import Job


def run_tile(store: str, tile: Tile, job: Job) -> dict[str, Any]:
    """Score one tile with its store's task and mark it done (only after its data is on disk)."""
    started = time.perf_counter()
    summary = job.task(Path(store), tile, job)
    Manifest(Path(store)).mark_done(tile.id)
    return {"tile": tile.id, "bases": tile.bases, **summary, "seconds": round(time.perf_counter() - started, 3),
            "host": os.uname().nodename}
