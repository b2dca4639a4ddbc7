"""The ``engine="pangolin"`` xarray backend: a store's chromosomes with a lazy 1-based ``position``.

Registered as an entry point (``xarray.backends`` in pyproject.toml), so no import of this package
is needed::

    xr.open_dataset("example.zarr", engine="pangolin", group="chr22")   # one chromosome
    xr.open_datatree("example.zarr", engine="pangolin")                 # all of them

It opens the groups with xarray's zarr backend (consolidated metadata when the store has it, so
opens read one file and never warn), renames the on-disk ``offset`` axis to ``position`` and gives
it a `PositionIndex`, and leaves out the ``_tiles`` work manifest. Stores of format 1 (axis stored
as ``position``) are read the same way. xarray imports this module whenever it lists its engines,
so it imports nothing heavy at module level.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from xarray.backends import BackendEntrypoint

DESCRIPTION = "Pangolin splice-track stores (Zarr v3) with a lazy 1-based position index"
MANIFEST = "_tiles"


class PangolinBackendEntrypoint(BackendEntrypoint):
    """Open a Pangolin splice-track store (see the module docstring)."""

    description = DESCRIPTION
    open_dataset_parameters = ("filename_or_obj", "drop_variables", "group")
    supports_groups = True

    def guess_can_open(self, filename_or_obj: Any) -> bool:
        if not isinstance(filename_or_obj, str | os.PathLike):
            return False
        path = Path(filename_or_obj)
        return (path / "zarr.json").is_file() and (path / MANIFEST / "zarr.json").is_file()

    def open_dataset(self, filename_or_obj: Any, *, drop_variables: str | Iterable[str] | None = None,
                     group: str | None = None):
        """One chromosome (``group``) as a Dataset with dims (strand, position, tissue)."""
        from xarray.backends.zarr import ZarrBackendEntrypoint

        from ..errors import ContigNotFound, StoreError

        path, consolidated = _check_store(filename_or_obj)
        chrom = (group or "").strip("/")
        chroms = _chromosomes(path)
        if not chrom:
            raise StoreError(f"store {path} holds one group per chromosome: pass group= one of "
                             f"{_names(chroms)}, or use xr.open_datatree")
        if chrom not in chroms:
            raise ContigNotFound(f"store {path} has no chromosome {chrom!r}; it holds {_names(chroms)}")
        ds = ZarrBackendEntrypoint().open_dataset(str(path), group=chrom, consolidated=consolidated,
                                                  drop_variables=drop_variables)
        return as_track(ds, path)

    def open_groups_as_dict(self, filename_or_obj: Any, *, drop_variables: str | Iterable[str] | None = None,
                            group: str | None = None) -> dict[str, Any]:
        from xarray.backends.zarr import ZarrBackendEntrypoint

        path, consolidated = _check_store(filename_or_obj)
        groups = ZarrBackendEntrypoint().open_groups_as_dict(str(path), group=group, consolidated=consolidated,
                                                             drop_variables=drop_variables)
        groups = {name: as_track(ds, path) for name, ds in groups.items() if name.strip("/").split("/")[0] != MANIFEST}
        for ds in groups.values():
            ds.attrs.pop("offset", None)  # the note for plain-zarr readers; positions are labelled here
        return groups

    def open_datatree(self, filename_or_obj: Any, *, drop_variables: str | Iterable[str] | None = None,
                      group: str | None = None):
        """The store as a DataTree: root attributes (identity, gene table) and one node per chromosome."""
        from xarray.backends.common import datatree_from_dict_with_io_cleanup

        return datatree_from_dict_with_io_cleanup(
            self.open_groups_as_dict(filename_or_obj, drop_variables=drop_variables, group=group))


def as_track(ds: Any, path: Path) -> Any:
    """A chromosome group as the package presents it: ``position`` labelled 1-based, string labels.

    Groups without a chromosome axis (the root) are returned unchanged.
    """
    import numpy as np

    from .positions import position_coords

    axis = "offset" if "offset" in ds.dims else "position" if "position" in ds.dims else None
    if axis is None:
        return ds
    if axis == "offset":
        ds = ds.rename_dims(offset="position")
        for var in ds.variables.values():
            var.attrs.pop("offset", None)
            chunks = var.encoding.get("preferred_chunks")
            if chunks and "offset" in chunks:  # so that chunks={} still follows the stored chunks
                var.encoding["preferred_chunks"] = {("position" if d == "offset" else d): n for d, n in chunks.items()}
        ds.attrs.pop("offset", None)
    ds = ds.assign_coords(position_coords(ds.sizes["position"], ds.attrs.get("chrom")))
    # Zarr strings come back as numpy StringDType; object arrays of str select and write everywhere.
    labels = {dim: np.array([str(v) for v in ds[dim].values], dtype=object)
              for dim in ("strand", "tissue", "alt", "stat") if dim in ds.coords}
    ds = ds.assign_coords(labels)
    ds.encoding["pangolin_store"] = str(path)
    return ds


def _check_store(filename_or_obj: Any) -> tuple[Path, bool]:
    """The store's path and whether it has consolidated metadata; `StoreError` if it is not readable."""
    from ..errors import StoreError
    from .layout import FORMAT_VERSION, READABLE_FORMATS

    if not isinstance(filename_or_obj, str | os.PathLike):
        raise StoreError(f"engine='pangolin' opens a store by its path, got {type(filename_or_obj).__name__}")
    path = Path(filename_or_obj)
    if not path.exists():
        raise StoreError(f"{path} does not exist")
    try:
        stat = (path / "zarr.json").stat()
        version, consolidated = _root_facts(str(path), stat.st_mtime_ns, stat.st_size)
    except (OSError, ValueError):
        raise StoreError(f"{path} is not a Zarr v3 store (no readable zarr.json)") from None
    if version is None:
        raise StoreError(f"{path} is a Zarr store but not a Pangolin splice-track store")
    if version not in READABLE_FORMATS:
        raise StoreError(f"store {path} has format {version}; this version of pangolin-pipeline reads formats "
                         f"{', '.join(map(str, READABLE_FORMATS))} (writes {FORMAT_VERSION}): upgrade the package")
    return path, consolidated


@lru_cache(maxsize=64)
def _root_facts(path: str, mtime_ns: int, size: int) -> tuple[Any, bool]:
    """Format version and whether metadata is consolidated, from the root zarr.json (parsed once per
    version of the file: with a gene table and consolidated metadata it can be megabytes)."""
    root = json.loads((Path(path) / "zarr.json").read_text())
    return root.get("attributes", {}).get("format_version"), root.get("consolidated_metadata") is not None


def _chromosomes(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir() if p.name != MANIFEST and (p / "zarr.json").is_file())


def _names(chroms: list[str]) -> str:
    return ", ".join(chroms[:8]) + (f" and {len(chroms) - 8} more" if len(chroms) > 8 else "") if chroms else "none"
