"""ds.pangolin and tree.pangolin: regions, genes, sites and the gene table, equal to the project's queries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from pipeline.errors import ContigNotFound, RegionError, StoreError
from pipeline.tracks.query import sites, to_table
from pipeline.tracks.reader import TrackReader

PLUS_GENE = (32048500, 32051500)  # PLUS1 of the small store, 0-based half-open


def test_accessor_region_gene_sites_and_tree(small_store):
    ds = xr.open_dataset(small_store, engine="pangolin", group="chr22")
    region = ds.pangolin.region("chr22:32,049,941-32,049,950", strand="+", tissue="brain")
    assert region.p_splice.dims == ("position",) and region.position.values.tolist() == list(range(32049941, 32049951))
    np.testing.assert_array_equal(region.p_splice.values, ds.p_splice.sel(
        strand="+", tissue="brain", position=slice(32049941, 32049950)).values)
    gene = ds.pangolin.gene("PLUS1")
    assert str(gene.strand.values) == "+" and int(gene.position[0]) == PLUS_GENE[0] + 1
    assert int(gene.position[-1]) == PLUS_GENE[1]
    genes = ds.pangolin.genes
    row = genes[genes.gene_name == "PLUS1"].iloc[0]
    assert (row.start, row.end) == (PLUS_GENE[0] + 1, PLUS_GENE[1])  # 1-based inclusive for users
    assert ds.sel(position=slice(row.start, row.end)).sizes["position"] == gene.sizes["position"]
    found = gene.pangolin.sites(0.5)
    pd.testing.assert_frame_equal(found, sites(TrackReader(small_store).select("PLUS1"), threshold=0.5))
    both = ds.pangolin.region("chr22:32,049,941-32,049,950")
    pd.testing.assert_frame_equal(both.pangolin.table(),
                                  to_table(TrackReader(small_store).select("chr22:32049941-32049950")))
    tree = xr.open_datatree(small_store, engine="pangolin")
    xr.testing.assert_identical(tree.pangolin.gene("PLUS1").p_splice.load(), gene.p_splice.load())
    xr.testing.assert_identical(tree.pangolin.region("22:32049941-32049950", "+", "brain").p_splice.load(),
                                region.p_splice.load())
    assert tree.pangolin.chromosomes == ["chr22"] and len(tree.pangolin.genes) == len(genes)
    with pytest.raises(ContigNotFound):
        ds.pangolin.region("chr5:1-10")
    with pytest.warns(UserWarning, match="clipped"):  # partly past the chromosome end
        assert ds.pangolin.region("chr22:50818460-50818470").sizes["position"] == 9
    with pytest.raises(RegionError, match="not a gene"):
        ds.pangolin.gene("NOT_A_GENE")
    with pytest.raises(RegionError, match="unknown tissue kidney"):
        ds.pangolin.region("chr22:1-10", tissue="kidney")
    with pytest.raises(StoreError, match="engine='pangolin'"):
        xr.open_zarr(small_store, group="chr22").pangolin.region("chr22:1-10")
