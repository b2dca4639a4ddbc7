"""Variants at and past contig ends: past the end is its own reason (``outside_contig``), POS 0 or
negative is malformed, and within 5,000 bases of either end a variant is scored with its missing
context read as N (exactly as if the FASTA held those Ns)."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.genome.fasta import Reference
from pipeline.variants.records import parse_vcf_line
from pipeline.variants.scorer import SKIP_REASONS, ScoreOptions, VariantScorer, load_genes

from ..conftest import DATA
from .test_defects import BRCA_FASTA, BRCA_GTF, gtf_line, score
from .test_golden_cli import info_field

CHR17_LENGTH = 81_195_210  # the BRCA1 FASTA's chr17 record has the true chromosome's length (data README)


def record(line: str):
    return parse_vcf_line(1, line)


@pytest.fixture(scope="module")
def brca_scorer():
    options = ScoreOptions()
    return VariantScorer(None, Reference(BRCA_FASTA), load_genes(BRCA_GTF, options), options)


def test_the_fasta_record_is_the_whole_chromosome(brca_scorer):
    assert brca_scorer.reference.lengths["chr17"] == CHR17_LENGTH


@pytest.mark.parametrize("line", [
    f"chr17\t{CHR17_LENGTH + 1}\t.\tA\tG",  # one past the last base
    f"17\t{CHR17_LENGTH + 5_000_000}\t.\tA\tG",  # far past it, through a contig alias
    f"chr17\t{CHR17_LENGTH}\t.\tAC\tA",  # REF starts on the last base and runs past it
])
def test_past_the_end_is_outside_contig_not_a_ref_mismatch(brca_scorer, line):
    assert brca_scorer.prepare(0, record(line)) == ([], [(-1, "outside_contig")])
    assert "past the end of its contig" in SKIP_REASONS["outside_contig"]


def test_the_last_base_is_inside(brca_scorer):
    # the record's last base is N here (outside the real slice): a REF A there is a plain mismatch
    assert brca_scorer.prepare(0, record(f"chr17\t{CHR17_LENGTH}\t.\tA\tG")) == ([], [(0, "ref_mismatch")])


@pytest.mark.parametrize("pos", ["0", "-1", "-5000"])
def test_position_zero_or_negative_is_malformed(brca_scorer, pos):
    parsed = record(f"chr17\t{pos}\t.\tA\tG")
    assert parsed.error == "malformed_position"
    assert brca_scorer.prepare(0, parsed) == ([], [(-1, "malformed_position")])


def test_outside_contig_is_written_and_counted(get_ensemble, tmp_path):
    lines, counts = score(get_ensemble(), ["chr17\t41276133\t.\tC\tT\t.\t.\t.",
                                           f"chr17\t{CHR17_LENGTH + 1}\t.\tA\tG\t.\t.\t."], tmp_path)
    assert counts["scored"] == 1 and counts["outside_contig"] == 1
    assert info_field(lines[1], "PangolinSkipped") == "outside_contig"


def test_near_both_ends_scored_as_if_the_fasta_held_the_ns(get_ensemble, tmp_path):
    # 3,000 bases of BRCA1 around an exon (41,276,034-41,276,132, minus strand) as a contig of their own,
    # and the same with 6,000 explicit Ns either side: scores at the first and last bases, and at the
    # exon (2,133: 5,050 bases of context reach past the start) must agree.
    offset, pad = 41_274_000, 6_000
    bases = Reference(BRCA_FASTA).fetch("chr17", offset, offset + 3_000)
    fasta = tmp_path / "edge.fa"
    fasta.write_text(f">edge\n{bases}\n>padded\n{'N' * pad}{bases}{'N' * pad}\n")
    options, scorers = ScoreOptions(), {}
    for contig, shift in (("edge", 0), ("padded", pad)):  # one gene G on each (a GTF per contig: G is one id)
        gtf = tmp_path / f"{contig}.gtf"
        gtf.write_text(gtf_line(contig, "gene", 1 + shift, 3_000 + shift, "-", "G")
                       + gtf_line(contig, "transcript", 1 + shift, 3_000 + shift, "-", "G", "G.1")
                       + gtf_line(contig, "exon", 41_276_034 - offset + shift, 41_276_132 - offset + shift,
                                  "-", "G", "G.1"))
        scorers[contig] = VariantScorer(get_ensemble(), Reference(fasta), load_genes(gtf, options), options)
    positions = (1, 41_276_133 - offset, 3_000)  # first base, the exon's end, last base
    alleles = {}
    for contig, shift in (("edge", 0), ("padded", pad)):
        for pos in positions:
            ref = bases[pos - 1].upper()
            alt = "T" if ref != "T" else "A"
            (allele,), _ = scorers[contig].prepare(0, record(f"{contig}\t{pos + shift}\t.\t{ref}\t{alt}"))
            alleles.setdefault(contig, []).append(allele)
    scores = {contig: scorers[contig].compute(alleles[contig]) for contig in alleles}  # one pass each
    for edge, padded, edge_scores, padded_scores in zip(alleles["edge"], alleles["padded"], scores["edge"],
                                                        scores["padded"]):
        assert edge.context == padded.context  # N context beyond the contig's ends
        for got, want in zip(edge_scores["-"], padded_scores["-"]):
            np.testing.assert_allclose(got, want, atol=1e-5)
        value = scorers["edge"].info_value(edge, edge_scores)
        assert value == scorers["padded"].info_value(padded, padded_scores) and value.startswith("G|")


def test_near_the_end_of_a_real_record_is_scored(get_ensemble, tmp_path):
    # grch38-chr2's record stops at 2,333,275 (an artificial chromosome end): a gene up to its last base
    fasta = DATA / "grch38-chr2" / "chr2_1-2333275.fa.gz"
    end = Reference(fasta).lengths["chr2"]
    gtf = tmp_path / "end.gtf"
    gtf.write_text(gtf_line("chr2", "gene", end - 20_000, end, "+", "E"))
    variants = []
    for pos in (end - 4_000, end):
        base = Reference(fasta).fetch("chr2", pos - 1, pos).upper()
        variants.append(f"chr2\t{pos}\t.\t{base}\t{'A' if base != 'A' else 'G'}\t.\t.\t.")
    variants.append(f"chr2\t{end + 1}\t.\tA\tG\t.\t.\t.")
    lines, counts = score(get_ensemble(), variants, tmp_path, fasta=fasta, gtf=gtf)
    assert counts["scored"] == 2 and counts["outside_contig"] == 1
    assert all(info_field(line).startswith("E|") for line in lines[:2])
