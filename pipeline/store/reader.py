"""Opening a store as xarray: thin wrappers over the ``engine="pangolin"`` backend (backend.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import xarray as xr

from ..errors import StoreError
from .backend import PangolinBackendEntrypoint
from .layout import read_identity
from .location import locate

ALL_SNV_HINT = "use `lookup` or `export --format vcf`"


def read_track_identity(path: str | Path) -> dict[str, Any]:
    """The root attributes of a splice-track store (made by `run`, given by path or URL), for the track readers.

    Raises
    ------
    StoreError
        If ``path`` does not exist, is not a store of this package, or is an all-SNV store (made by
        `saturate`, whose SNV summaries the track readers cannot show: the message names what can).
    """
    path = locate(path)
    if not path.exists():
        raise StoreError(f"{path} does not exist" if not path.remote else
                         f"{path} is not a Zarr v3 store (no zarr.json there)")
    attrs = read_identity(path)
    kind = attrs.get("kind") or "track"  # stores from before `kind` are tracks
    if kind == "snv":
        raise StoreError(f"{path} is an all-SNV store (made by saturate): {ALL_SNV_HINT}")
    if kind != "track":
        raise StoreError(f"{path} is a {kind} store, not a splice-track store (made by `run`)")
    return attrs


def open_chrom(path: str | Path, chrom: str, dask: bool = True) -> xr.Dataset:
    """One chromosome of a store as a lazy Dataset with a 1-based ``position`` index.

    Dask-backed with the store's chunks, or (``dask=False``) lazily indexed: each selection then
    reads just its chunks with no task graph, which is faster for small queries on long
    chromosomes. Raises `ContigNotFound` (a KeyError) for a chromosome the store does not hold,
    `StoreError` for a path that is no store.
    """
    return xr.open_dataset(str(path), engine=PangolinBackendEntrypoint, group=chrom, chunks={} if dask else None)


def open_store(path: str | Path, dask: bool = True) -> xr.DataTree:
    """The whole store as a DataTree: one node per chromosome, positions as lazy indexes."""
    return xr.open_datatree(str(path), engine=PangolinBackendEntrypoint, chunks={} if dask else None)
