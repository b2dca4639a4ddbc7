"""Opening a store as xarray: thin wrappers over the ``engine="pangolin"`` backend (backend.py)."""

from __future__ import annotations

from pathlib import Path

import xarray as xr

from .backend import PangolinBackendEntrypoint


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
