"""Outputs a user can trust: `-` is stdout, symlinks are followed, pipes written through (never
replaced), regular files appear only when complete, the name sets the format, write errors are one
line, and every VCF says what made it."""

from __future__ import annotations

import errno
import gzip
import hashlib
import os
import shutil
import subprocess
import threading

import pysam
import pytest

from pipeline.errors import OutputClosed, OutputError
from pipeline.outputs import VCF_SUFFIXES, OutputFile

from ..conftest import DATA, WEIGHTS, run_cli

BRCA = DATA / "grch37-brca1"
HEADER = "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=1000>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
RECORDS = "".join(f"chr1\t{p}\t.\tA\tC\t.\t.\t.\n" for p in range(1, 301))
needs_htslib_tools = pytest.mark.skipif(not (shutil.which("bcftools") and shutil.which("tabix")),
                                        reason="bcftools and tabix (Debian packages; CI installs them) not found")


def read_pipe(fd: int, into: list[bytes]) -> threading.Thread:
    def drain():
        with os.fdopen(fd, "rb") as reader:
            into.append(reader.read())

    thread = threading.Thread(target=drain)
    thread.start()
    return thread


def test_a_symlink_to_a_pipe_is_written_through_and_stays_a_symlink(tmp_path):
    read_end, write_end = os.pipe()
    link = tmp_path / "so"
    link.symlink_to(f"/proc/self/fd/{write_end}")
    received: list[bytes] = []
    thread = read_pipe(read_end, received)
    with OutputFile(link).open() as handle:
        handle.write("through the pipe\n")
    os.close(write_end)
    thread.join(timeout=10)
    assert received == [b"through the pipe\n"] and link.is_symlink()
    assert os.readlink(link) == f"/proc/self/fd/{write_end}"


def test_a_symlink_to_a_file_replaces_the_file_and_keeps_the_link_and_mode(tmp_path):
    real = tmp_path / "real.vcf"
    real.write_text("old\n")
    real.chmod(0o640)
    (tmp_path / "link.vcf").symlink_to(real)
    with OutputFile(tmp_path / "link.vcf").open() as handle:
        handle.write("new\n")
    assert (tmp_path / "link.vcf").is_symlink() and real.read_text() == "new\n"
    assert real.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.vcf", "real.vcf"]


def test_a_failure_leaves_the_old_file_and_nothing_else(tmp_path):
    out = tmp_path / "out.tsv"
    out.write_text("old\n")
    with pytest.raises(RuntimeError), OutputFile(out).open() as handle:
        handle.write("half")
        raise RuntimeError("boom")
    assert out.read_text() == "old\n" and [p.name for p in tmp_path.iterdir()] == ["out.tsv"]


def test_a_full_disk_is_one_error_naming_the_path_and_leaves_nothing(tmp_path, monkeypatch):
    def no_space(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("pipeline.outputs.os.fsync", no_space)
    with pytest.raises(OutputError, match=r"cannot write .*out\.tsv: No space left on device"):
        with OutputFile(tmp_path / "out.tsv").open() as handle:
            handle.write("x\n")
    assert list(tmp_path.iterdir()) == []


def test_a_closed_pipe_is_reported_as_such(tmp_path):
    read_end, write_end = os.pipe()
    os.close(read_end)
    link = tmp_path / "gone"
    link.symlink_to(f"/proc/self/fd/{write_end}")
    with pytest.raises(OutputClosed), OutputFile(link).open() as handle:
        handle.write("x" * 200_000)
    os.close(write_end)


@pytest.mark.parametrize("name, problem", [("out.txt", "must end in"), ("missing/out.vcf", "does not exist"),
                                           (".", "is a directory")])
def test_outputs_are_checked_before_any_work(tmp_path, name, problem):
    with pytest.raises(OutputError, match=problem):
        OutputFile(tmp_path / name if name != "." else tmp_path, "--out", VCF_SUFFIXES)


def test_index_needs_a_compressed_file():
    with pytest.raises(OutputError, match="--index needs --out to name a .vcf.gz or .bcf"):
        OutputFile("-", "--out", VCF_SUFFIXES, index=True)


@needs_htslib_tools
def test_vcf_gz_is_bgzf_that_tabix_and_bcftools_index(tmp_path):
    out = OutputFile(tmp_path / "x.vcf.gz", index=True)
    with out.open() as handle:
        handle.write(HEADER + RECORDS)
    assert (tmp_path / "x.vcf.gz.tbi").exists()
    with gzip.open(tmp_path / "x.vcf.gz", "rt") as text:
        assert text.read() == HEADER + RECORDS
    for command in (["tabix", "-f", "-p", "vcf"], ["bcftools", "index", "-f"]):
        subprocess.run([*command, str(tmp_path / "x.vcf.gz")], check=True, capture_output=True)
    region = subprocess.run(["tabix", str(tmp_path / "x.vcf.gz"), "chr1:10-19"], check=True, capture_output=True,
                            text=True).stdout
    assert [line.split("\t")[1] for line in region.splitlines()] == [str(p) for p in range(10, 20)]


@needs_htslib_tools
def test_bcf_is_bcf(tmp_path):
    with OutputFile(tmp_path / "x.bcf", index=True).open() as handle:
        handle.write(HEADER + RECORDS)
    assert (tmp_path / "x.bcf").read_bytes()[:2] == b"\x1f\x8b" and (tmp_path / "x.bcf.csi").exists()
    with pysam.VariantFile(str(tmp_path / "x.bcf")) as records:
        assert records.is_bcf and [r.pos for r in records] == list(range(1, 301))


def test_replacing_an_indexed_file_without_index_drops_the_stale_index(tmp_path):
    for index in (True, False):
        with OutputFile(tmp_path / "x.vcf.gz", index=index).open() as handle:
            handle.write(HEADER + RECORDS)
        assert (tmp_path / "x.vcf.gz.tbi").exists() == index


def test_unsorted_records_cannot_be_indexed_and_nothing_is_left(tmp_path):
    with pytest.raises(OutputError, match=r"chr1:1 follows chr1:300 .*bcftools sort"):
        with OutputFile(tmp_path / "x.vcf.gz", index=True).open() as handle:
            handle.write(HEADER + RECORDS + "chr1\t1\t.\tA\tG\t.\t.\t.\n")
    assert list(tmp_path.iterdir()) == []


def score_args(vcf, out, *more):
    return ["score", vcf, "--fasta", BRCA / "chr17.fa.gz", "--annotation", BRCA / "canonical.gtf", "--out", out,
            "--weights", WEIGHTS, "-q", *more]


@pytest.fixture
def two_snvs(tmp_path):
    vcf = tmp_path / "in.vcf"
    vcf.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
                   "chr17\t41276126\t.\tC\tA\t.\t.\t.\nchr17\t41276133\t.\tC\tT\t.\t.\t.\n")
    return vcf


@needs_htslib_tools
def test_score_writes_indexed_bgzf_with_its_provenance(two_snvs, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out.vcf.gz"
    code, _, err = run_cli(monkeypatch, capsys, *score_args(two_snvs, out, "--index"))
    assert code == 0, err
    subprocess.run(["bcftools", "index", "-f", str(out)], check=True, capture_output=True)
    header = str(pysam.VariantFile(str(out)).header)
    digest = hashlib.sha256((BRCA / "canonical.gtf").read_bytes()).hexdigest()
    assert f"##pangolinAnnotation=canonical.gtf sha256:{digest}" in header
    fasta = hashlib.sha256((BRCA / "chr17.fa.gz").read_bytes()).hexdigest()
    assert f"##pangolinReference=chr17.fa.gz sha256:{fasta}" in header
    assert "##source=pangolin-pipeline" in header and "##pangolinCommand=pangolin-pipeline score" in header
    assert "distance:50,mask:True" in header and "tags:Ensembl_canonical" in header
    checkpoint = hashlib.sha256((WEIGHTS / "final.1.0.3.v2").read_bytes()).hexdigest()
    assert f"final.1.0.3.v2:{checkpoint}" in header


def test_score_to_standard_output(two_snvs, monkeypatch, capsys):
    code, out, err = run_cli(monkeypatch, capsys, *score_args(two_snvs, "-"))
    assert code == 0 and "written to standard output" in err
    assert [line.split("\t")[1] for line in out.splitlines() if not line.startswith("#")] == ["41276126", "41276133"]


def test_cli_stops_quietly_with_141_when_the_reader_leaves(two_snvs, tmp_path, monkeypatch, capsys):
    read_end, write_end = os.pipe()
    os.close(read_end)  # `| head` that has already exited
    link = tmp_path / "gone"
    link.symlink_to(f"/proc/self/fd/{write_end}")
    code, _, err = run_cli(monkeypatch, capsys, *score_args(two_snvs, link))
    os.close(write_end)
    assert code == 141 and "error" not in err and "Traceback" not in err


def test_debug_is_accepted_after_the_command_and_workers_must_be_positive(two_snvs, tmp_path, monkeypatch, capsys):
    code, _, err = run_cli(monkeypatch, capsys, *score_args(two_snvs, tmp_path / "o.vcf", "--workers", "0", "--debug"))
    assert code == 2 and "--workers" in err and "must be >= 1" in err and "No such option" not in err


def test_a_store_cannot_be_made_in_a_virtual_file_system():
    from pipeline.outputs import check_output_dir

    with pytest.raises(OutputError, match="virtual file system"):
        check_output_dir("/proc/x.zarr")
