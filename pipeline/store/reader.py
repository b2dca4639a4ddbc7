"""Opening a store as xarray, with a lazy 1-based ``position`` index (nothing allocated per base)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr
from xarray.indexes import RangeIndex


def _with_positions(ds: xr.Dataset) -> xr.Dataset:
    index = RangeIndex.arange(1, ds.sizes["position"] + 1, 1, dim="position", dtype=np.dtype("int64"))
    ds = ds.assign_coords(xr.Coordinates.from_xindex(index))
    # Zarr variable-length strings come back as numpy StringDType; plain str labels select everywhere.
    return ds.assign_coords(strand=[str(v) for v in ds.strand.values], tissue=[str(v) for v in ds.tissue.values])


def open_chrom(path: str | Path, chrom: str) -> xr.Dataset:
    """One chromosome of a store as a lazy (dask-backed) Dataset with 1-based ``position``."""
    ds = xr.open_zarr(str(path), group=chrom, consolidated=False)
    return _with_positions(ds)


def open_store(path: str | Path) -> xr.DataTree:
    """The whole store as a DataTree (one node per chromosome), positions as lazy range indexes."""
    tree = xr.open_datatree(str(path), engine="zarr", consolidated=False, chunks={})
    tree = tree.drop_nodes("_tiles", errors="ignore")  # the work manifest, not data
    return tree.map_over_datasets(lambda ds: _with_positions(ds) if "position" in ds.dims else ds)

