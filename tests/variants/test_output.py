"""`score` output: checked writable before any work, streamed in input order, nothing scored is an error."""

from __future__ import annotations

import pytest

from pipeline.errors import Interrupted
from pipeline.variants.driver import score_variants
from pipeline.variants.output import ChunkResult, VariantOutput
from pipeline.variants.records import parse_vcf_line
from pipeline.variants.scorer import ScoreOptions

from ..conftest import DATA, WEIGHTS, run_cli

BRCA = DATA / "grch37-brca1"
HEADER = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"


def score_args(vcf, out):
    return ["score", vcf, "--fasta", BRCA / "chr17.fa.gz", "--annotation", BRCA / "canonical.gtf", "--out", out,
            "--weights", WEIGHTS, "--quiet"]


def test_unwritable_output_fails_before_any_work(tmp_path, monkeypatch, capsys):
    vcf = tmp_path / "in.vcf"
    vcf.write_text(HEADER + "chr17\t41276133\t.\tC\tT\t.\t.\t.\n")
    code, _, err = run_cli(monkeypatch, capsys, *score_args(vcf, tmp_path / "no-such-dir" / "out.vcf"))
    assert code == 2 and err.strip().splitlines()[-1].endswith("no-such-dir does not exist")


def test_input_that_matches_nothing_in_the_reference_is_an_error(tmp_path, monkeypatch, capsys):
    vcf = tmp_path / "in.vcf"
    vcf.write_text(HEADER + "chrUn\t100\t.\tC\tT\t.\t.\t.\nchrUn\t200\t.\tG\tA\t.\t.\t.\n")
    code, _, err = run_cli(monkeypatch, capsys, *score_args(vcf, tmp_path / "out.vcf"))
    assert code == 2 and "none of 2 record(s) matches the reference: most (2) were unknown_contig" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.vcf"]  # no output, no partial file


def test_nothing_genic_is_a_complete_result(tmp_path, monkeypatch, capsys):
    """A scatter/gather chunk whose variants all lie between genes must not fail the workflow."""
    from pipeline.genome.fasta import Reference

    base = Reference(BRCA / "chr17.fa.gz").fetch("chr17", 41_299_999, 41_300_000).upper()  # between BRCA1 and NBR1
    vcf = tmp_path / "in.vcf"
    vcf.write_text(HEADER + f"chr17\t41300000\t.\t{base}\t{'A' if base != 'A' else 'C'}\t.\t.\t.\n")
    code, _, err = run_cli(monkeypatch, capsys, *score_args(vcf, tmp_path / "out.vcf"))
    assert code == 0 and "1 allele(s) not scored: not_in_gene" in err
    assert (tmp_path / "out.vcf").read_text().splitlines()[-1].endswith("PangolinSkipped=not_in_gene")


def test_records_are_written_in_input_order_as_earlier_ones_complete(tmp_path):
    records = [parse_vcf_line(n, f"chr1\t{n}\t.\tA\tC\t.\t.\t.") for n in range(1, 5)]
    output = VariantOutput(tmp_path / "out.vcf", records, ["#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"], None)
    later, first = ChunkResult(), ChunkResult()
    later.values[2].append("G|1:0.1|-1:0.0|Warnings:")
    output.add(2, 2, later)  # records 2-3 finish first: held back
    assert output.written == 0
    output.add(0, 2, first)
    assert output.written == 4
    output.close()
    lines = [line for line in (tmp_path / "out.vcf").read_text().splitlines() if not line.startswith("#")]
    assert [line.split("\t")[1] for line in lines] == ["1", "2", "3", "4"] and "Pangolin=G|" in lines[2]
    assert [p.name for p in tmp_path.iterdir()] == ["out.vcf"]  # no temporary left beside it


class _InterruptedAfterTwo:
    """A scorer stand-in: the first run of records is skipped, Ctrl-C arrives during the second."""

    options = ScoreOptions()
    snv_store = None

    def from_snv_store(self, record):
        return None

    def prepare(self, index, record):
        if index >= 2:
            raise KeyboardInterrupt
        return [], [(-1, "not_in_gene")]

    def compute(self, alleles):
        return []


def test_ctrl_c_leaves_the_old_output_and_no_partial_file(tmp_path):
    vcf = tmp_path / "in.vcf"
    vcf.write_text(HEADER + "".join(f"chr17\t{p}\t.\tC\tT\t.\t.\t.\n" for p in range(1, 5)))
    (tmp_path / "out.vcf").write_text("earlier results\n")
    with pytest.raises(Interrupted, match=r"2 of 4 records were done; nothing written to .*out\.vcf"):
        score_variants(vcf, _InterruptedAfterTwo(), tmp_path / "out.vcf", batch=2)
    assert (tmp_path / "out.vcf").read_text() == "earlier results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.vcf", "out.vcf"]


def test_a_truncated_last_line_is_an_error_or_left_out_never_a_record(tmp_path, monkeypatch, capsys):
    vcf = tmp_path / "in.vcf"
    vcf.write_text(HEADER + "chr17\t41276133\t.\tC\tT\t.\t.\t.\nchr17\t4127613")  # cut off mid-record
    code, _, err = run_cli(monkeypatch, capsys, *score_args(vcf, tmp_path / "out.vcf"))
    assert code == 2 and "in.vcf line 4: fewer than 5 columns" in err and "--skip-malformed" in err
    assert not (tmp_path / "out.vcf").exists()
    code, _, err = run_cli(monkeypatch, capsys, *score_args(vcf, tmp_path / "out.vcf"), "--skip-malformed")
    assert code == 0 and "1 malformed line(s) left out" in err
    records = [line for line in (tmp_path / "out.vcf").read_text().splitlines() if not line.startswith("#")]
    assert [r.split("\t")[1] for r in records] == ["41276133"]
