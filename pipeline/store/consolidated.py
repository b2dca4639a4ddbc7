"""Consolidated metadata: every group's and array's metadata copied into the root ``zarr.json``.

Written when a run or resume finishes and by ``finalize``; nothing changes a store's metadata after
that (tiles only write chunks and done flags), so it stays true. ``--overwrite`` rewrites the root
without it until the run ends. Readers use it when present: one file read instead of one per array,
and xarray's plain ``open_zarr`` no longer warns that it is missing.

Consolidating also (re)writes the shard-index bundles (shard_indexes.py) first, so that they and the
consolidated metadata that lists them describe the shards as they are when the run ends.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import zarr

from ..errors import StoreError
from . import shard_indexes


def consolidate(path: str | Path, bundles: bool = True) -> None:
    """Write (or rewrite) the shard-index bundles (unless not ``bundles``: a store as made before them,
    for benchmarks and tests) and the consolidated metadata of the store at ``path``.

    Raises
    ------
    StoreError
        If the store cannot be written (read-only store or folder).
    """
    with warnings.catch_warnings():
        # zarr notes that consolidated metadata is not yet part of the v3 spec; xarray and zarr read it.
        warnings.filterwarnings("ignore", message="Consolidated metadata is currently not part")
        try:
            if bundles:
                shard_indexes.write(path)
            zarr.consolidate_metadata(str(path))
        except PermissionError:
            raise StoreError(f"cannot write consolidated metadata to store {path}: permission denied") from None


def is_consolidated(path: str | Path) -> bool:
    """Whether the root ``zarr.json`` of ``path`` holds consolidated metadata."""
    try:
        root = json.loads((Path(path) / "zarr.json").read_text())
    except (OSError, ValueError):
        return False
    return root.get("consolidated_metadata") is not None
