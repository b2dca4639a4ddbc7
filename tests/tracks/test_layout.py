"""The track store's layout: the gene table survives its JSON attributes, and an empty store has the
documented arrays (dims, shapes, shards, fill) and no data chunks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import zarr

from pipeline.store.identity import read_identity
from pipeline.tracks.layout import create_store


def small_genes() -> pd.DataFrame:
    return pd.DataFrame({"chrom": ["chrX", "chrX"], "start": np.array([10, 400], dtype=np.int64),
                         "end": np.array([300, 900], dtype=np.int64), "strand": ["+", "-"],
                         "gene_id": ["G1", "G2"], "exon_starts": [np.array([10, 200]), np.array([], dtype=np.int64)],
                         "exon_ends": [np.array([50, 300]), np.array([], dtype=np.int64)]})


def test_an_empty_store_has_the_documented_arrays_and_no_data(tmp_path):
    identity = {"format_version": 1, "kind": "track", "ensemble": "official", "dtype": "float16",
                "tiling": {"tile_size": 512, "chunk_size": 256}}
    create_store(tmp_path / "s.zarr", identity, small_genes(), {"chrX": 1000}, job={}, inputs={})
    group = zarr.open_group(str(tmp_path / "s.zarr"), path="chrX", mode="r")
    for name in ("p_splice", "usage"):
        array = group[name]
        assert array.shape == (2, 1000, 4) and array.dtype == np.float16
        assert array.metadata.dimension_names == ("strand", "offset", "tissue")
        assert array.chunks == (1, 256, 4) and array.shards == (1, 512, 4)
        assert np.isnan(array[:, :10]).all()
    assert list(group["tissue"][:]) == ["heart", "liver", "brain", "testis"] and list(group["strand"][:]) == ["+", "-"]
    assert not [p for p in (tmp_path / "s.zarr" / "chrX" / "p_splice").rglob("*") if p.is_file()
                and p.name != "zarr.json"]  # absent chunks cost nothing
    assert read_identity(tmp_path / "s.zarr")["tiling"] == identity["tiling"]
