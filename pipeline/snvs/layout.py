"""Zarr layout of an all-SNV store.

One group per chromosome; the first axis is ``offset`` (index i is 1-based position i + 1; opened with
``engine="pangolin"`` it becomes a labelled 1-based ``position``, as in track stores), ``alt`` is
A, C, G, T (the REF base's slot stays empty) and ``slot`` is the k-th gene containing the position,
in the official order (plus-strand genes first, then by start)::

    chr17/ref        (offset,)                uint8   REF base (ASCII) where SNVs are stored, else 0
    chr17/gene       (offset, slot)           int32   row of the root attribute ``genes``, -1 = none
    chr17/gain       (offset, alt, slot)      int8    official gain x 100 (2 decimals, exact), -128 = none
    chr17/gain_pos   (offset, alt, slot)      int16   its offset from the SNV (bases, -d..d)
    chr17/loss, chr17/loss_pos                        the same for the loss
    chr17/tissue_delta      (offset, alt, slot, tissue, stat)  float16  with --per-tissue: stat =
    chr17/tissue_delta_pos                                       p_splice_gain, p_splice_loss,
                                                                 usage_gain, usage_loss (unmasked)
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
from ..model.config import TISSUES
from ..store.identity import OFFSET_NOTE
from ..store.labels import ALTS, STATS

NO_SCORE = -128  # fill of the int8 hundredths
NO_POS = -32768
OFFICIAL = {"gain": "int8", "gain_pos": "int16", "loss": "int8", "loss_pos": "int16"}
# what each variable holds where nothing is stored (the arrays' fill values; the kernel starts from them)
FILLS = {"ref": 0, "gene": -1, "gain": NO_SCORE, "loss": NO_SCORE, "gain_pos": NO_POS, "loss_pos": NO_POS,
         "tissue_delta": np.nan, "tissue_delta_pos": NO_POS}
DESCRIPTIONS = {
    "ref": "REF base (ASCII code) at positions whose SNVs are stored; 0 elsewhere",
    "gene": "row of the root attribute 'genes' for each gene containing the position (official order); -1 = none",
    "gain": "largest P(splice) increase over tissues within distance, masked as `score`, x 100 (exact 2 decimals)",
    "gain_pos": "offset of the gain from the SNV, bases (negative = upstream in genome order)",
    "loss": "largest P(splice) decrease over tissues within distance, masked as `score`, x 100 (exact 2 decimals)",
    "loss_pos": "offset of the loss from the SNV, bases",
    "tissue_delta": "per tissue: P(splice) and usage gain and loss (unmasked, as `score --table`)",
    "tissue_delta_pos": "offsets of tissue_delta from the SNV, bases",
}


def create_snv_store(path: Path, identity: dict[str, Any], genes: pd.DataFrame, lengths: dict[str, int],
                     slots: int, job: dict[str, Any], inputs: dict[str, str]) -> None:
    """Write the metadata of an empty all-SNV store: groups, arrays, coordinate labels, attributes."""
    tiling, per_tissue = identity["tiling"], identity["settings"]["per_tissue"]
    # identity goes in with the group: zarr.json never exists without it (check_target tells stores by it)
    root = zarr.create_group(str(path), zarr_format=3, overwrite=False, attributes={
        **identity, "software_version": __version__, "genes": genes_to_attrs(genes), "job": job, "inputs": inputs,
        "offset": OFFSET_NOTE})
    chunk, shard = tiling["chunk_size"], tiling["tile_size"]

    def array(group, name, tail: tuple[int, ...], dims: tuple[str, ...], dtype: str) -> None:
        group.create_array(name, shape=(length, *tail), dtype=dtype, fill_value=FILLS[name], chunks=(chunk, *tail),
                           shards=(shard, *tail), compressors=[ZstdCodec(level=3)], dimension_names=dims,
                           attributes={"description": DESCRIPTIONS[name]})

    for chrom, length in lengths.items():
        group = root.create_group(chrom, attributes={"chrom": chrom, "length": length, "offset": OFFSET_NOTE})
        array(group, "ref", (), ("offset",), "uint8")
        array(group, "gene", (slots,), ("offset", "slot"), "int32")
        for name, dtype in OFFICIAL.items():
            array(group, name, (len(ALTS), slots), ("offset", "alt", "slot"), dtype)
        if per_tissue:
            dims = ("offset", "alt", "slot", "tissue", "stat")
            tail = (len(ALTS), slots, len(TISSUES), len(STATS))
            array(group, "tissue_delta", tail, dims, "float16")
            array(group, "tissue_delta_pos", tail, dims, "int16")
        for dim, labels in (("alt", ALTS), ("tissue", TISSUES), ("stat", STATS)):
            coord = group.create_array(dim, shape=(len(labels),), dtype=str, dimension_names=(dim,))
            coord[:] = np.array(labels, dtype=object)
