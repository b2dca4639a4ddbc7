"""A malformed annotation is warned about once per process, however many gene tables are read from it."""

from __future__ import annotations

import warnings

from pipeline.genome.annotation import GeneFilter, read_genes

from ..conftest import REPO

GTF = REPO / "tests" / "data" / "two_genes.gtf"


def test_malformed_lines_warn_once_for_two_reads(tmp_path):
    gtf = tmp_path / "bad.gtf"
    gtf.write_text("chr22\tbroken line\n" + GTF.read_text())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert len(read_genes(gtf)) == 2
        assert len(read_genes(gtf, GeneFilter(gene_types=("lncRNA",)))) == 1  # as `score` reads it twice
    assert [str(w.message) for w in caught if w.category is UserWarning] == [
        "annotation bad.gtf: skipped 1 malformed line(s)"]
    gtf.write_text("chr22\tbroken\nchr22\tagain\n" + GTF.read_text())  # a new version is parsed again
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read_genes(gtf)
    assert [str(w.message) for w in caught if w.category is UserWarning] == [
        "annotation bad.gtf: skipped 2 malformed line(s)"]
