"""One tile end to end: read its sequence, run the ensemble, write its shard, mark it done.

`score_tile` is a plain function of small arguments, so it runs the same inline, through
``client.map`` on Dask workers, or in a SLURM array task. Each process caches its own ensemble
(loaded once per Dask worker by `EnsemblePlugin`) and FASTA handle.
"""

from __future__ import annotations

import os
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
import zarr
from distributed.diagnostics.plugin import WorkerPlugin

from ..genome.encode import count_ambiguous, one_hot
from ..genome.fasta import Reference
from ..model import Ensemble, load_ensemble
from ..store.manifest import Manifest
from ..store.tile import Tile
from .tiling import windows

P_SPLICE = [1, 4, 7, 10]  # output channels of the four tissues
USAGE = [2, 5, 8, 11]
STRAND_INDEX = {"+": 0, "-": 1}
MODEL_KEYS = ("weights", "ensemble", "engine", "dtype", "device", "memory_gb", "threads")


@lru_cache(maxsize=2)
def _ensemble(key: tuple) -> Ensemble:
    recipe = dict(key)
    if recipe.get("threads"):
        torch.set_num_threads(int(recipe["threads"]))
    return load_ensemble(recipe["ensemble"], recipe["weights"], device=recipe["device"], dtype=recipe["dtype"],
                         engine=recipe["engine"], memory_gb=recipe["memory_gb"])


def get_ensemble(recipe: dict[str, Any]) -> Ensemble:
    """This process's ensemble for a recipe (loaded on first use, then cached)."""
    return _ensemble(tuple((k, recipe.get(k)) for k in MODEL_KEYS))


@lru_cache(maxsize=4)
def _reference(path: str) -> Reference:
    return Reference(path)


class EnsemblePlugin(WorkerPlugin):
    """Loads the ensemble once when a Dask worker starts, so the first tile does not pay for it."""

    name = "pangolin-ensemble"

    def __init__(self, recipe: dict[str, Any]):
        self.recipe = recipe

    def setup(self, worker) -> None:
        get_ensemble(self.recipe)


def score_tile(store: str, tile: dict | Tile, recipe: dict[str, Any]) -> dict[str, Any]:
    """Score one tile and write its shard of ``p_splice`` and ``usage``; return a summary.

    The done marker is written only after both arrays are written and flushed to disk.
    """
    tile = tile if isinstance(tile, Tile) else Tile.from_dict(tile)
    started = time.perf_counter()
    ensemble = get_ensemble(recipe)
    reference = _reference(recipe["fasta"])
    flank = ensemble.context // 2
    length = tile.end - tile.start
    p_splice = np.full((length, 4), np.nan, dtype=np.float32)
    usage = np.full((length, 4), np.nan, dtype=np.float32)
    ambiguous = 0
    for win_start, win_end in windows(tile.segments, ensemble.context):
        seq = reference.fetch(tile.chrom, win_start - flank, win_end + flank)
        ambiguous += count_ambiguous(seq)
        scores = ensemble.score_onehot(one_hot(seq), tile.strand)
        for seg_start, seg_end in tile.segments:
            if win_start <= seg_start and seg_end <= win_end:
                rows = scores[seg_start - win_start : seg_end - win_start]
                p_splice[seg_start - tile.start : seg_end - tile.start] = rows[:, P_SPLICE]
                usage[seg_start - tile.start : seg_end - tile.start] = rows[:, USAGE]
    strand = STRAND_INDEX[tile.strand]
    for name, values in (("p_splice", p_splice), ("usage", usage)):
        array = zarr.open_array(store, path=f"{tile.chrom}/{name}", mode="r+")
        array[strand, tile.start : tile.end, :] = values.astype(recipe["store_dtype"])
        _fsync_shard(Path(store), tile, name, strand)
    summary = {"tile": tile.id, "bases": tile.bases, "ambiguous": ambiguous,
               "seconds": round(time.perf_counter() - started, 3), "host": os.uname().nodename}
    Manifest(Path(store)).mark_done(tile.id)
    return summary


def _fsync_shard(store: Path, tile: Tile, name: str, strand: int) -> None:
    """Flush the shard file to disk before its tile may be marked done (no-op if all-NaN, not written)."""
    shard = store / tile.chrom / name / "c" / str(strand) / str(tile.index) / "0"
    if shard.is_file():
        with open(shard, "rb") as handle:
            os.fsync(handle.fileno())
