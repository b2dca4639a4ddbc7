"""The bad-input catalogue: each case ends with one clear line and a non-zero exit, no traceback."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from ..conftest import DATA, REPO, WEIGHTS, run_cli

CHR22 = DATA / "grch38-chr22" / "chr22.fa.gz"
GTF = REPO / "tests" / "data" / "two_genes.gtf"
BRCA = DATA / "grch37-brca1"


def cli(monkeypatch, capsys, *args: str) -> tuple[int, str]:
    code, _, err = run_cli(monkeypatch, capsys, *args)
    return code, err


def expect_error(monkeypatch, capsys, pattern: str, *args) -> None:
    code, err = cli(monkeypatch, capsys, *args)
    assert code != 0, err
    assert "Traceback" not in err
    lines = [line for line in err.strip().splitlines() if line.startswith("error")]
    assert len(lines) == 1 and pattern in lines[0], err


def run_args(tmp_path, **over):
    args = {"--fasta": CHR22, "--annotation": GTF, "--out": tmp_path / "s.zarr", "--weights": WEIGHTS,
            "--cluster": "none", "--tile-size": 1024, "--chunk-size": 256}
    args.update(over)
    flat = ["run"]
    for k, v in args.items():
        if v is not None:
            flat += [k, v]
    return flat


@pytest.fixture
def weights_copy(tmp_path):
    target = tmp_path / "w"
    shutil.copytree(WEIGHTS, target)
    return target


CASES = {
    "missing fasta": ({"--fasta": "nope.fa"}, "does not exist"),
    "missing annotation": ({"--annotation": "nope.gtf"}, "does not exist"),
    "unknown ensemble": ({"--ensemble": "best"}, "ensemble must be one of"),
    "bad dtype": ({"--dtype": "int8"}, "dtype must be one of"),
    "bad store dtype": ({"--store-dtype": "int8"}, "store_dtype must be one of"),
    "tile not multiple of chunk": ({"--tile-size": 1000}, "multiple of chunk_size"),
    "negative margin": ({"--margin": -5}, "margin must be >= 0"),
    "unknown cluster": ({"--cluster": "kubernetes"}, "cluster must be"),
    "missing weights dir": ({"--weights": "no/such/dir"}, "does not exist"),
    "unknown chromosome filter": ({"--chrom": "chrZ"}, "contig 'chrZ' is not in FASTA"),
    "no genes after filters": ({"--gene-types": "miRNA"}, "no genes left"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_run_rejects(case, monkeypatch, capsys, tmp_path):
    overrides, pattern = CASES[case]
    expect_error(monkeypatch, capsys, pattern, *run_args(tmp_path, **overrides))


@pytest.mark.parametrize("cluster", ["none", "local"])
def test_bfloat16_where_onednn_lacks_it_is_refused_before_any_work(cluster, monkeypatch, capsys, tmp_path):
    from pipeline.model import cpu

    monkeypatch.setattr(cpu, "onednn_bf16", lambda: False)  # an AVX2-only CPU
    expect_error(monkeypatch, capsys, "no bfloat16 convolutions on this CPU",
                 *run_args(tmp_path, **{"--dtype": "bfloat16", "--cluster": cluster}))
    assert not (tmp_path / "s.zarr").exists()


def test_annotation_contigs_absent_from_fasta(monkeypatch, capsys, tmp_path):
    gtf = tmp_path / "other.gtf"
    gtf.write_text(GTF.read_text().replace("chr22\t", "chrZZ\t"))
    expect_error(monkeypatch, capsys, "no gene lies on a contig of the FASTA",
                 *run_args(tmp_path, **{"--annotation": gtf}))


def test_malformed_gtf_lines_warn_with_count(tmp_path):
    from pipeline.genome.annotation import read_genes

    gtf = tmp_path / "bad.gtf"
    gtf.write_text(GTF.read_text() + "chr22\tbroken line\nchr22\tt\tgene\tten\t20\t.\t+\t.\tgene_id \"X\";\n")
    with pytest.warns(UserWarning, match="skipped 2 malformed line"):
        genes = read_genes(gtf)
    assert len(genes) == 2


def test_gff3_without_gene_lines_uses_transcripts(tmp_path):
    from pipeline.genome.annotation import read_genes

    gff = tmp_path / "t.gff3"
    gff.write_text("##gff-version 3\n"
                   "chr22\tx\tmRNA\t100\t900\t.\t+\t.\tID=rna-1;Parent=gene-A;gene=A\n"
                   "chr22\tx\texon\t100\t200\t.\t+\t.\tID=e1;Parent=rna-1;gene=A\n")
    genes = read_genes(gff)
    assert genes.gene_id.tolist() == ["A"] and (genes.start[0], genes.end[0]) == (99, 900)


def test_overlapping_genes_score_each_base_once(tmp_path):
    from pipeline.precompute.tiling import make_tiles

    tiles = make_tiles("c", "+", [(100, 500), (300, 800)], 10_000, 1024)
    assert [t.segments for t in tiles] == [((100, 800),)]


def test_iupac_codes_warn_with_count(monkeypatch, capsys, tmp_path):
    fasta = tmp_path / "iupac.fa"
    seq = (CHR22_SEQ := _chr22_slice())[:5000] + "RYKMSW" + CHR22_SEQ[5006:]
    fasta.write_text(">chr22\n" + seq + "\n")
    gtf = tmp_path / "g.gtf"
    gtf.write_text('chr22\tt\tgene\t5001\t5010\t.\t+\t.\tgene_id "G";\n')
    code, err = cli(monkeypatch, capsys, *run_args(tmp_path, **{"--fasta": fasta, "--annotation": gtf}), "--quiet")
    assert code == 0 and "warning: 6 IUPAC or other non-ACGTN symbols" in err


def _chr22_slice() -> str:
    from pipeline.genome.fasta import Reference

    return Reference(CHR22).fetch("chr22", 32_040_000, 32_052_000)


@pytest.fixture
def shared_dir():
    """A folder an unprivileged user can read but not write (pytest's own tmp folders are private)."""
    with tempfile.TemporaryDirectory() as folder:
        os.chmod(folder, 0o755)
        yield Path(folder)


def as_ordinary_user(*args) -> subprocess.CompletedProcess:
    """The CLI run by a user without write access to root's files (root itself may write anywhere)."""
    command = [sys.executable, "-m", "pipeline", *map(str, args)]
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv to drop privileges")
        drop = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        if subprocess.run([*drop, sys.executable, "-c", "import pipeline"], cwd=REPO).returncode:
            pytest.skip("user nobody cannot read this checkout or its Python")
        command = [*drop, *command]
    return subprocess.run(command, capture_output=True, text=True, cwd=REPO)


def one_error_line(result: subprocess.CompletedProcess, pattern: str) -> None:
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error")]
    assert len(errors) == 1 and pattern in errors[0], result.stderr


def test_fasta_without_index_in_read_only_folder(shared_dir):
    (shared_dir / "x.fa").write_text(">chr22\n" + "ACGT" * 100 + "\n")
    result = as_ordinary_user(*run_args(shared_dir, **{"--fasta": shared_dir / "x.fa", "--out": "/tmp/never.zarr"}))
    one_error_line(result, "not writable")


def test_read_only_store(shared_dir, monkeypatch, capsys):
    args = run_args(shared_dir)
    code, err = cli(monkeypatch, capsys, "init", *args[1:9])  # --fasta, --annotation, --out, --weights
    assert code == 0, err
    one_error_line(as_ordinary_user(*args), "permission denied")
    status = as_ordinary_user("status", shared_dir / "s.zarr", "--json")  # reading needs no write access
    assert status.returncode == 0 and '"tiles_done": 0' in status.stdout, status.stderr


def test_genes_past_the_end_of_their_contig(tmp_path, monkeypatch, capsys):
    fasta = tmp_path / "short.fa"
    fasta.write_text(">chr1\n\n>chr2\n" + "ACGT" * 250 + "\n")  # chr1 has no sequence at all
    gtf = tmp_path / "g.gtf"
    gtf.write_text("".join(f'{chrom}\tt\t{kind}\t{start}\t{end}\t.\t+\t.\tgene_id "{gene}"; transcript_id "T{gene}";\n'
                           for chrom, gene, start, end in (("chr1", "A", 1, 100), ("chr2", "B", 901, 1100))
                           for kind in ("gene", "transcript", "exon")))
    args = run_args(tmp_path, **{"--fasta": fasta, "--annotation": gtf})
    code, err = cli(monkeypatch, capsys, *args, "--quiet")
    assert code == 0, err
    assert "1 gene(s) start past the end of their contig's sequence" in err and "A on chr1" in err
    assert "1 gene(s) run past the end of their contig; scored up to the end" in err
    gtf.write_text("".join(line for line in gtf.read_text().splitlines(keepends=True) if line.startswith("chr1")))
    expect_error(monkeypatch, capsys, "every gene lies past the end", *run_args(tmp_path, **{
        "--fasta": fasta, "--annotation": gtf, "--out": tmp_path / "other.zarr"}))


def test_store_made_with_other_settings_and_not_a_store(monkeypatch, capsys, tmp_path):
    code, err = cli(monkeypatch, capsys, *run_args(tmp_path), "--quiet")
    assert code == 0, err
    expect_error(monkeypatch, capsys, "made with other settings (tiling.tile_size",
                 *run_args(tmp_path, **{"--tile-size": 2048}))
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "data.txt").write_text("precious")
    expect_error(monkeypatch, capsys, "is not a Pangolin store", *run_args(tmp_path, **{"--out": tmp_path / "plain"}))
    expect_error(monkeypatch, capsys, "is not a Zarr v3 store", "status", tmp_path / "plain")


def test_config_file_errors(monkeypatch, capsys, tmp_path):
    bad_key = tmp_path / "a.yaml"
    bad_key.write_text("fasta: x.fa\nthreads: 4\n")
    expect_error(monkeypatch, capsys, "unknown config key 'threads'", "run", "--config", bad_key)
    bad_type = tmp_path / "b.yaml"
    bad_type.write_text("tile_size: big\n")
    expect_error(monkeypatch, capsys, "config key 'tile_size' must be int", "run", "--config", bad_type)


def test_weights_errors(monkeypatch, capsys, weights_copy, tmp_path):
    (weights_copy / "final.2.4.3.v2").unlink()
    expect_error(monkeypatch, capsys, "final.2.4.3.v2 is missing", "weights", "verify", "--weights", weights_copy)
    data = bytearray((WEIGHTS / "final.2.4.3.v2").read_bytes())
    data[-10] ^= 0xFF
    (weights_copy / "final.2.4.3.v2").write_bytes(bytes(data))
    expect_error(monkeypatch, capsys, "fails its SHA-256", "weights", "verify", "--weights", weights_copy)
    (weights_copy / "final.2.4.3.v2").unlink()
    (weights_copy / "final.2.4.3").write_bytes(b"v1 checkpoint")  # the wrong (v1) release
    expect_error(monkeypatch, capsys, "final.2.4.3.v2 is missing", "weights", "verify", "--weights", weights_copy)


def test_cli_region_and_strand(monkeypatch, capsys):
    expect_error(monkeypatch, capsys, "ends before it starts", "predict", "--fasta", CHR22, "--region", "chr22:200-100")
    code, err = cli(monkeypatch, capsys, "predict", "--fasta", CHR22, "--region", "chr22:100-200", "--strand", "x")
    assert code != 0 and "strand must be + or -" in err and "Traceback" not in err


def test_variant_file_errors(monkeypatch, capsys, tmp_path):
    args = ["--fasta", BRCA / "chr17.fa.gz", "--annotation", BRCA / "canonical.gtf", "--out", tmp_path / "o.vcf",
            "--weights", WEIGHTS]
    expect_error(monkeypatch, capsys, "does not exist", "score", tmp_path / "none.vcf", *args)
    not_vcf = tmp_path / "x.vcf"
    not_vcf.write_text("just text\n")
    expect_error(monkeypatch, capsys, "no #CHROM header", "score", not_vcf, *args)
    truncated = tmp_path / "t.vcf.gz"
    truncated.write_bytes(gzip.compress(b"##fileformat=VCFv4.2\n#CHROM\tPOS\n" * 50)[:60])
    expect_error(monkeypatch, capsys, "cannot be read", "score", truncated, *args)
