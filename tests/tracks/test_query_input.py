"""Query input forgiveness: gene names in any case when unambiguous, regions clipped at the contig end."""

from __future__ import annotations

import pytest

from pipeline.errors import QueryError, RegionError
from pipeline.tracks.reader import TrackReader


def test_gene_names_match_case_insensitively_when_unambiguous(small_store):
    store = TrackReader(small_store)
    assert store.resolve("plus1").gene["gene_id"] == "PLUS1"
    store.genes.loc[len(store.genes)] = {**store.genes.iloc[0].to_dict(), "gene_id": "G2", "gene_name": "Plus1"}
    assert store.resolve("Plus1").gene["gene_id"] == "G2"  # exact match first
    with pytest.raises(QueryError, match="matches 2 genes ignoring case"):
        store.resolve("pLUS1")


def test_region_past_the_contig_end_is_clipped_with_a_warning(small_store):
    store = TrackReader(small_store)
    with pytest.warns(UserWarning, match="runs past the end of chr22.*clipped to chr22:50,818,460-50,818,468"):
        selection = store.resolve("chr22:50818460-50818470")
    assert (selection.start, selection.end) == (50_818_459, 50_818_468)
    with pytest.raises(RegionError, match="outside"):
        store.resolve("chr22:50818470-50818480")
