"""An annotation's format is read from its content: a GFF3 named .gtf (or a GTF named .gff3) reads as it is."""

from __future__ import annotations

import gzip
import shutil

import pandas as pd

from pipeline.genome.annotation import is_gff3, read_genes

from ..conftest import DATA, TWO_GENES

MANE = DATA / "grch38-chr22" / "MANE.v1.3.region.gff3"


def test_gff3_named_gtf_reads_as_gff3(tmp_path):
    misnamed = tmp_path / "x.gtf"
    shutil.copy(MANE, misnamed)
    assert is_gff3(misnamed)
    expected = read_genes(MANE)
    assert list(expected.gene_name) == ["SLC5A1", "C22orf42", "RFPL2", "SLC5A4"]
    pd.testing.assert_frame_equal(read_genes(misnamed), expected)


def test_gtf_named_gff3_and_gzipped_reads_as_gtf(tmp_path):
    misnamed = tmp_path / "x.gff3.gz"
    with gzip.open(misnamed, "wt") as out:
        out.write(TWO_GENES.read_text())
    assert not is_gff3(misnamed)
    pd.testing.assert_frame_equal(read_genes(misnamed), read_genes(TWO_GENES))


def test_version_line_or_attributes_decide(tmp_path):
    header_only = tmp_path / "a.gtf"
    header_only.write_text("##gff-version 3\n")
    assert is_gff3(header_only)
    no_features = tmp_path / "b.gff3"
    no_features.write_text("# nothing\n")
    assert is_gff3(no_features)  # the content says nothing: the name decides
    gtf_attrs = tmp_path / "c.gff"
    gtf_attrs.write_text('chr1\tx\texon\t1\t10\t.\t+\t.\tgene_id "G"; transcript_id "T";\n')
    assert not is_gff3(gtf_attrs)
