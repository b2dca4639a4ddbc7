"""The ``engine="pangolin"`` xarray backend: a store's chromosomes with a lazy 1-based ``position``.

Registered as an entry point (``xarray.backends`` in pyproject.toml), so no import of this package
is needed::

    xr.open_dataset("example.zarr", engine="pangolin", group="chr22")   # one chromosome
    xr.open_datatree("example.zarr", engine="pangolin")                 # all of them

It opens the groups with xarray's zarr backend (consolidated metadata when the store has it, so
opens read one file and never warn), renames the on-disk ``offset`` axis to ``position`` and gives
it a `PositionIndex`, and leaves out the ``_tiles`` work manifest and the ``_shard_indexes`` bundles.
Stores of format 1 (axis stored as ``position``) are read the same way. xarray imports this module
whenever it lists its engines, so it imports nothing heavy at module level.
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
NOT_CHROMOSOMES = (MANIFEST, "_shard_indexes")  # the work manifest; shard-index bundles (shard_indexes.py)


class PangolinBackendEntrypoint(BackendEntrypoint):
    """Open a Pangolin splice-track store (see the module docstring)."""

    description = DESCRIPTION
    open_dataset_parameters = ("filename_or_obj", "drop_variables", "group")
    supports_groups = True

    def guess_can_open(self, filename_or_obj: Any) -> bool:
        if not isinstance(filename_or_obj, str | os.PathLike) or "://" in str(filename_or_obj):
            return False  # URLs: name the engine (guessing would cost requests for every engine tried)
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
        labels = _fixed_labels(path, chrom)
        ds = ZarrBackendEntrypoint().open_dataset(path.zarr_store(), group=chrom, consolidated=consolidated,
                                                  drop_variables=_dropping(drop_variables, labels),
                                                  **_v3_only(path))
        return as_track(ds.assign_coords(labels), path)

    def open_groups_as_dict(self, filename_or_obj: Any, *, drop_variables: str | Iterable[str] | None = None,
                            group: str | None = None) -> dict[str, Any]:
        from xarray.backends.zarr import ZarrBackendEntrypoint

        path, consolidated = _check_store(filename_or_obj)
        labels = {chrom: _fixed_labels(path, chrom) for chrom in _chromosomes(path)}
        every = {name for chrom_labels in labels.values() for name in chrom_labels}
        groups = ZarrBackendEntrypoint().open_groups_as_dict(path.zarr_store(), group=group,
                                                             consolidated=consolidated,
                                                             drop_variables=_dropping(drop_variables, every),
                                                             **_v3_only(path))
        groups = {name: as_track(ds.assign_coords(labels.get(name.strip("/"), {})), path)
                  for name, ds in groups.items() if name.strip("/").split("/")[0] not in NOT_CHROMOSOMES}
        for ds in groups.values():
            ds.attrs.pop("offset", None)  # the note for plain-zarr readers; positions are labelled here
        return groups

    def open_datatree(self, filename_or_obj: Any, *, drop_variables: str | Iterable[str] | None = None,
                      group: str | None = None):
        """The store as a DataTree: root attributes (identity, gene table) and one node per chromosome."""
        from xarray.backends.common import datatree_from_dict_with_io_cleanup

        return datatree_from_dict_with_io_cleanup(
            self.open_groups_as_dict(filename_or_obj, drop_variables=drop_variables, group=group))


def as_track(ds: Any, path: Any) -> Any:
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
    ds.encoding["pangolin_store"] = str(getattr(path, "path", None) or path)  # a path or URL (location.py)
    return ds


def _check_store(filename_or_obj: Any) -> tuple[Any, bool]:
    """The store's location (location.py) and whether it has consolidated metadata; `StoreError` if
    it is not readable."""
    from ..errors import StoreError
    from .identity import FORMAT_VERSION, READABLE_FORMATS
    from .location import locate

    if not isinstance(filename_or_obj, str | os.PathLike):
        raise StoreError(f"engine='pangolin' opens a store by its path or URL, got {type(filename_or_obj).__name__}")
    location = locate(filename_or_obj)
    if location.remote:
        root = location.root  # one request; every later opener of this URL reuses it
        if root is None:
            raise StoreError(f"{location} is not a Zarr v3 store (no zarr.json there)")
        version = root.get("attributes", {}).get("format_version") if isinstance(root, dict) else None
        consolidated = isinstance(root, dict) and root.get("consolidated_metadata") is not None
    else:
        path = location.path
        if not path.exists():
            raise StoreError(f"{path} does not exist")
        try:
            stat = (path / "zarr.json").stat()
            version, consolidated = _root_facts(str(path), stat.st_mtime_ns, stat.st_size)
        except (OSError, ValueError):
            raise StoreError(f"{path} is not a Zarr v3 store (no readable zarr.json)") from None
    if version is None:
        raise StoreError(f"{location} is a Zarr store but not a Pangolin splice-track store")
    if version not in READABLE_FORMATS:
        raise StoreError(f"store {location} has format {version}; this version of pangolin-pipeline reads formats "
                         f"{', '.join(map(str, READABLE_FORMATS))} (writes {FORMAT_VERSION}): upgrade the package")
    return location, consolidated


@lru_cache(maxsize=64)
def _root_facts(path: str, mtime_ns: int, size: int) -> tuple[Any, bool]:
    """Format version and whether metadata is consolidated, from the root zarr.json (parsed once per
    version of the file: with a gene table and consolidated metadata it can be megabytes)."""
    root = json.loads((Path(path) / "zarr.json").read_text())
    return root.get("attributes", {}).get("format_version"), root.get("consolidated_metadata") is not None


def _chromosomes(location: Any) -> list[str]:
    return [name for name in location.groups() if name not in NOT_CHROMOSOMES]


def _fixed_labels(location: Any, chrom: str) -> dict[str, Any]:
    """For a store read by URL: the label coordinates whose values the format fixes (strand + -,
    the four tissues, the SNV alts), taken from the package instead of read, so that opening a
    chromosome (or a whole genome's DataTree) costs no request per label array. Only where the
    consolidated metadata shows the array with exactly the expected length; local stores read them."""
    if not location.remote:
        return {}
    from ..genome.regions import STRANDS
    from ..model.config import TISSUES
    from .labels import ALTS, STATS

    nodes = location.consolidated() or {}
    known = {"strand": list(STRANDS), "tissue": list(TISSUES), "alt": list(ALTS), "stat": list(STATS)}
    labels = {}
    for name, values in known.items():
        meta = nodes.get(f"{chrom}/{name}")
        if meta and meta.get("node_type") == "array" and list(meta.get("shape", [])) == [len(values)] \
                and list(meta.get("dimension_names") or []) == [name]:
            labels[name] = (name, values)
    return labels


def _v3_only(location: Any) -> dict[str, Any]:
    """By URL, say the format: zarr would otherwise also ask for Zarr v2's files (three more requests)."""
    return {"zarr_format": 3} if location.remote else {}


def _dropping(drop_variables: str | Iterable[str] | None, labels: Iterable[str]) -> list[str] | None:
    names = [drop_variables] if isinstance(drop_variables, str) else list(drop_variables or [])
    names += [name for name in labels if name not in names]
    return names or None


def _names(chroms: list[str]) -> str:
    return ", ".join(chroms[:8]) + (f" and {len(chroms) - 8} more" if len(chroms) > 8 else "") if chroms else "none"
