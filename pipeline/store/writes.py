"""Writing a tile's values into its shard, flushed to disk before the tile may be marked done."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import zarr


def shard_file(root: Path, array_path: str, array: zarr.Array, selection: tuple[int | slice, ...]) -> Path:
    """The file of the shard that holds the first element of ``selection`` (default chunk-key encoding)."""
    starts = [s if isinstance(s, int) else (s.start or 0) for s in selection]
    starts += [0] * (array.ndim - len(starts))
    shape = array.shards or array.chunks
    return Path(root, array_path, "c", *(str(start // size) for start, size in zip(starts, shape)))


def write_values(root: Path, array_path: str, selection: tuple[int | slice, ...], values: np.ndarray) -> None:
    """Write ``values`` at ``selection`` of one array (inside one shard) and fsync that shard.

    An all-fill region writes no file; then there is nothing to flush.
    """
    array = zarr.open_array(str(root), path=array_path, mode="r+")
    array[selection] = values.astype(array.dtype, copy=False)
    shard = shard_file(root, array_path, array, selection)
    if shard.is_file():
        with open(shard, "rb") as handle:
            os.fsync(handle.fileno())
