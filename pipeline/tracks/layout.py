"""Zarr v3 layout of a splice-track store, and the identity that decides whether a run may resume.

Layout (one group per chromosome)::

    STORE/                      root attributes: identity, gene table; consolidated metadata once run
      chr22/p_splice            (strand, offset, tissue) float16, NaN where not scored
      chr22/usage               same
      chr22/p_donor, ...        (strand, offset) one per output of a fine-tuned head (`run --head`)
      chr22/strand, chr22/tissue  coordinate labels
      _tiles/                   tile list and done markers (see manifest.py)

On disk the axis along the chromosome is ``offset``: 0-based, position = offset + 1, no coordinate
stored. Readers of this package (``engine="pangolin"``, see store/backend.py) present it as ``position``
with a lazy 1-based index. A plain ``xr.open_zarr`` shows ``offset``, so ``.sel(position=...)`` fails
loudly instead of silently treating positions as 0-based offsets (format 1 named the axis
``position`` without labels, which did exactly that).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import zarr
from zarr.codecs import ZstdCodec

from .. import __version__
from ..genome.gene_table import genes_to_attrs
from ..genome.regions import STRANDS
from ..store.identity import OFFSET_NOTE

VARIABLES = ("p_splice", "usage")
DIMS = ("strand", "offset", "tissue")  # on disk; readers rename offset -> position
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
        for dim, labels in (("strand", list(STRANDS)), ("tissue", list(TISSUES))):
            coord = group.create_array(dim, shape=(len(labels),), dtype=str, dimension_names=(dim,))
            coord[:] = np.array(labels, dtype=object)
