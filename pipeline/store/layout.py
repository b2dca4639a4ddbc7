"""Zarr v3 layout of a splice-track store, and the identity that decides whether a run may resume.

Layout (one group per chromosome)::

    STORE/                      root attributes: identity, gene table; consolidated metadata once run
      chr22/p_splice            (strand, offset, tissue) float16, NaN where not scored
      chr22/usage               same
      chr22/p_donor, ...        (strand, offset) one per output of a fine-tuned head (`run --head`)
      chr22/strand, chr22/tissue  coordinate labels
      _tiles/                   tile list and done markers (see manifest.py)

On disk the axis along the chromosome is ``offset``: 0-based, position = offset + 1, no coordinate
stored. Readers of this package (``engine="pangolin"``, see backend.py) present it as ``position``
with a lazy 1-based index. A plain ``xr.open_zarr`` shows ``offset``, so ``.sel(position=...)`` fails
loudly instead of silently treating positions as 0-based offsets (format 1 named the axis
``position`` without labels, which did exactly that).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import zarr
from zarr.codecs import ZstdCodec

from .. import __version__
from ..errors import StoreError
from .manifest import GROUP, Manifest, unfinished

# 2: the chromosome axis is stored as `offset` (format 1: `position`, read transparently by the backend).
FORMAT_VERSION = 2
READABLE_FORMATS = (1, 2)
VARIABLES = ("p_splice", "usage")
DIMS = ("strand", "offset", "tissue")  # on disk; readers rename offset -> position
OFFSET_NOTE = ("0-based: index i along offset is 1-based position i + 1; xr.open_dataset(store, engine='pangolin', "
               "group=chrom) gives a 1-based position index")
ATTRS = {
    "p_splice": {
        "long_name": "splice-site probability",
        "units": "probability",
        "description": "P(splice site) at this base on this strand (softmax output of the Pangolin heads), "
        "mean over the ensemble's replicates; NaN where the base was not scored",
    },
    "usage": {
        "long_name": "splice-site usage",
        "units": "probability",
        "description": "predicted usage of this base as a splice site (sigmoid output), mean over the "
        "ensemble's replicates; NaN where the base was not scored",
    },
}
def genes_to_attrs(genes: pd.DataFrame) -> dict[str, list]:
    """The gene table as JSON-able columns (exons as comma-joined 0-based starts and ends)."""
    out: dict[str, list] = {}
    for column in genes.columns:
        if column in ("exon_starts", "exon_ends"):
            out[column] = [",".join(map(str, a)) for a in genes[column]]
        elif column in ("start", "end"):
            out[column] = [int(v) for v in genes[column]]
        else:
            out[column] = [str(v) for v in genes[column]]
    return out


def genes_from_attrs(columns: dict[str, list]) -> pd.DataFrame:
    genes = pd.DataFrame(columns)
    for column in ("exon_starts", "exon_ends"):
        genes[column] = [np.array([int(v) for v in s.split(",")] if s else [], dtype=np.int64) for s in genes[column]]
    return genes


def create_store(path: Path, identity: dict[str, Any], genes: pd.DataFrame, lengths: dict[str, int],
                 job: dict[str, Any], inputs: dict[str, str], heads: list[dict[str, Any]] = ()) -> None:
    """Write the metadata of an empty track store (no data chunks): groups, arrays, coordinates, attributes.

    ``job`` (absolute input paths, model settings, the tile task) lets a scheduler-free task score
    tiles from the store path alone; ``inputs`` are the paths as the user gave them; ``heads``
    (tracks/heads.py) add one (strand, offset) variable per head output.
    """
    from ..model.config import TISSUES  # here, not at import: xarray imports this package for the backend

    tiling = identity["tiling"]
    # identity goes in with the group: zarr.json never exists without it (check_target tells stores by it)
    root = zarr.create_group(str(path), zarr_format=3, overwrite=False, attributes={
        **identity, "software_version": __version__, "genes": genes_to_attrs(genes), "job": job, "inputs": inputs,
        "offset": OFFSET_NOTE})
    for chrom, length in lengths.items():
        group = root.create_group(chrom, attributes={"chrom": chrom, "length": length, "offset": OFFSET_NOTE})
        for name in VARIABLES:
            group.create_array(
                name, shape=(2, length, len(TISSUES)), dtype=identity["dtype"], fill_value=np.nan,
                chunks=(1, tiling["chunk_size"], len(TISSUES)), shards=(1, tiling["tile_size"], len(TISSUES)),
                compressors=[ZstdCodec(level=3)], dimension_names=DIMS,
                attributes={**ATTRS[name], "ensemble": identity["ensemble"], "coordinates": "strand tissue",
                            "offset": OFFSET_NOTE},
            )
        for order, (head, column) in enumerate((h, c) for h in heads for c in h["columns"]):
            group.create_array(
                column, shape=(2, length), dtype=identity["dtype"], fill_value=np.nan,
                chunks=(1, tiling["chunk_size"]), shards=(1, tiling["tile_size"]),
                compressors=[ZstdCodec(level=3)], dimension_names=DIMS[:2],
                attributes={"long_name": f"fine-tuned head output {column}", "units": "probability",
                            "description": f"output {column!r} of the {head['task']} head {head['path']} "
                            f"(SHA-256 {head['digest'][:12]}...) on this strand; NaN where not scored",
                            "head_order": order,  # Zarr lists arrays by name; tables keep the heads' order
                            "coordinates": "strand", "offset": OFFSET_NOTE},
            )
        for dim, labels in (("strand", ["+", "-"]), ("tissue", list(TISSUES))):
            coord = group.create_array(dim, shape=(len(labels),), dtype=str, dimension_names=(dim,))
            coord[:] = np.array(labels, dtype=object)


def read_identity(path: str | Path, unfinished_ok: bool = False) -> dict[str, Any]:
    """The root attributes of a store, given by path or URL (see location.py).

    Raises:
        StoreError: ``path`` is not a store of this package, or its creation did not complete (see
            manifest.py) unless ``unfinished_ok`` (a run about to create it again).
    """
    from .location import locate

    location = locate(path)
    if location.remote:
        return _read_remote_identity(location, unfinished_ok)
    path = location.path
    if not (path / "zarr.json").is_file():
        if (path / GROUP).is_dir():  # the lock of the run that began creating it is there (see lock.py)
            raise unfinished(path)
        raise StoreError(f"{path} is not a Zarr v3 store (no zarr.json)")
    attrs = json.loads((path / "zarr.json").read_text()).get("attributes", {})
    if "format_version" not in attrs:
        raise StoreError(f"{path} is a Zarr store but not a Pangolin splice-track store")
    if not unfinished_ok and Manifest.creation_unfinished(path):
        raise unfinished(path)
    return attrs


def _read_remote_identity(location: Any, unfinished_ok: bool) -> dict[str, Any]:
    """read_identity for a URL: one request (the root zarr.json, whose consolidated metadata also
    says whether creation finished)."""
    root = location.root
    if root is None:
        raise StoreError(f"{location} is not a Zarr v3 store (no zarr.json there)")
    if not isinstance(root, dict) or root.get("zarr_format") != 3:
        raise StoreError(f"{location} is not a Zarr v3 store (its zarr.json is not Zarr v3 metadata)")
    attrs = root.get("attributes", {})
    if "format_version" not in attrs:
        raise StoreError(f"{location} is a Zarr store but not a Pangolin splice-track store")
    if not unfinished_ok and location.has_node(GROUP) and not location.has_node(f"{GROUP}/done"):
        raise unfinished(location)
    return attrs
