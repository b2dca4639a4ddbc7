"""Which positions an all-SNV store covers (pure functions, no model)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.errors import ConfigError
from pipeline.snvs.plan import max_overlap
from pipeline.snvs.regions import describe_regions, snv_intervals

LENGTHS = {"chr1": 10_000}


def genes() -> pd.DataFrame:
    return pd.DataFrame({"gene_id": ["A", "B"], "chrom": "chr1", "strand": ["+", "-"], "start": [1_000, 1_500],
                         "end": [3_000, 5_000],
                         "exon_starts": [np.array([1_000, 2_000]), np.array([4_900])],
                         "exon_ends": [np.array([1_100, 2_100]), np.array([5_000])]})


def test_exons_plus_flank_clipped_to_gene_bodies():
    # A's first exon flank would start at 950, before A's body (1,000); B's last exon flank would
    # run to 5,050, past B's end (5,000): neither lies in any gene body.
    assert snv_intervals(genes(), "exons:50", LENGTHS) == {"chr1": [(1_000, 1_150), (1_950, 2_150), (4_850, 5_000)]}
    assert snv_intervals(genes(), "exons", LENGTHS) == snv_intervals(genes(), "exons:50", LENGTHS)


def test_gene_bodies_and_bed(tmp_path):
    assert snv_intervals(genes(), "genes", LENGTHS) == {"chr1": [(1_000, 5_000)]}
    bed = tmp_path / "r.bed"
    bed.write_text("track name=x\n1\t900\t1010\nchr1\t6000\t6100\nchrZ\t1\t2\nchr1\tnot\tnumbers\n")
    with pytest.warns(UserWarning) as caught:
        assert snv_intervals(genes(), str(bed), LENGTHS) == {"chr1": [(1_000, 1_010)]}
    assert {str(w.message).split(" ")[0] for w in caught} == {"1"}  # one malformed line, one unknown contig


def test_regions_identity_and_refusal(tmp_path):
    assert describe_regions("exons") == {"regions": "exons:50"}
    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t1\t2\n")
    assert describe_regions(str(bed))["regions"] == "bed" and len(describe_regions(str(bed))["bed_digest"]) == 64
    with pytest.raises(ConfigError, match="exons:N, genes or a BED file"):
        describe_regions("exon:50")


def test_gene_slots_are_the_deepest_overlap():
    assert max_overlap(genes()) == 2
    assert max_overlap(genes().iloc[:1]) == 1


def test_exon_intervals_are_plain_ints():
    # exon bounds arrive as numpy int64; tiles made from them are stored as JSON, which has no int64
    for spans in snv_intervals(genes(), "exons:5", LENGTHS).values():
        assert all(type(v) is int for span in spans for v in span)
