"""Gene tables: the JSON round trip of store attributes, the 1-based view, views and exon sites."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from pipeline.genome.gene_table import annotated_sites, genes_from_attrs, genes_overlapping, genes_to_attrs, one_based

from ..tracks.test_layout import small_genes


def test_the_gene_table_round_trips_through_json_attributes():
    genes = small_genes()
    attrs = json.loads(json.dumps(genes_to_attrs(genes)))  # what a store keeps
    back = genes_from_attrs(attrs)
    pd.testing.assert_frame_equal(back.drop(columns=["exon_starts", "exon_ends"]),
                                  genes.drop(columns=["exon_starts", "exon_ends"]))
    for column in ("exon_starts", "exon_ends"):
        assert all(np.array_equal(a, b) for a, b in zip(back[column], genes[column]))


def test_the_one_based_view_moves_starts_only():
    genes = small_genes()
    shown = one_based(genes)
    assert shown.start.tolist() == [11, 401] and shown.end.tolist() == genes.end.tolist()
    assert shown.exon_starts[0].tolist() == [11, 201] and shown.exon_ends[0].tolist() == [50, 300]
    assert genes.start.tolist() == [10, 400]  # the table itself is left as it was


def test_genes_overlapping_a_view_are_those_with_a_base_inside_it():
    genes = small_genes()
    assert genes_overlapping(genes, "chrX", 300, 400).empty  # G1 ends at 300, G2 starts at 400 (half-open)
    assert genes_overlapping(genes, "chrX", 299, 401).gene_id.tolist() == ["G1", "G2"]
    assert genes_overlapping(genes, "chrY", 0, 1000).empty


def test_annotated_sites_are_each_exons_first_and_last_base_one_based():
    genes = small_genes()
    assert annotated_sites(genes.iloc[0]).tolist() == [11, 50, 201, 300]
    assert annotated_sites(genes.iloc[1]).tolist() == []
