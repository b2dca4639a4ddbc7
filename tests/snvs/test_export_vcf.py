"""`export --format vcf` and `lookup --vcf` of an all-SNV store: what annotation tools read. Each record
equals `lookup`; typed fields agree with the official string and the stored per-tissue values; the
header names what made the store; bcftools indexes, filters on and annotates with the export."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pysam
import pytest
import zarr

from pipeline.config import load_config
from pipeline.genome.fasta import Reference
from pipeline.precompute.driver import Execution, run_plan
from pipeline.snvs.annotate import lookup_strings
from pipeline.snvs.plan import SnvOptions, plan_snvs
from pipeline.snvs.reader import SnvReader

from ..conftest import DATA, WEIGHTS, run_cli

FASTA = DATA / "grch38-chr22" / "chr22.fa.gz"
GFF = DATA / "grch38-chr22" / "MANE.v1.3.region.gff3"
HEADER = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not shutil.which("bcftools"), reason="bcftools (Debian package; CI installs it)")]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("export")
    bed = tmp / "acceptor.bed"
    bed.write_text("chr22\t32049940\t32049944\n")  # SLC5A1's exon-2 acceptor: 4 positions, 12 SNVs
    config = load_config(None, fasta=str(FASTA), annotation=str(GFF), out=str(tmp / "s.zarr"), weights=str(WEIGHTS),
                         tile_size=65_536, chunk_size=4_096, cluster="none")
    run_plan(plan_snvs(config, SnvOptions(regions=str(bed), per_tissue=True)), tmp / "s.zarr", Execution("none"))
    return tmp / "s.zarr"


def official_numbers(value: str) -> list[tuple[str, float, int, float, int]]:
    """(gene, gain, gain offset, loss, loss offset) of each gene bundle of a Pangolin= value."""
    genes = []
    for bundle in value.split(","):
        gene, gain, loss, _ = bundle.split("|")
        (gain_pos, gain_value), (loss_pos, loss_value) = gain.split(":"), loss.split(":")
        genes.append((gene, float(gain_value), int(gain_pos), float(loss_value), int(loss_pos)))
    return genes


def test_export_equals_lookup_with_typed_fields_and_provenance(store, tmp_path, monkeypatch, capsys):
    out = tmp_path / "snvs.vcf.gz"
    code, _, err = run_cli(monkeypatch, capsys, "export", store, "--format", "vcf", "--out", out)
    assert code == 0, err
    assert (tmp_path / "snvs.vcf.gz.tbi").exists()
    subprocess.run(["bcftools", "index", "-f", str(out)], check=True, capture_output=True)
    reader = SnvReader(store)
    group = zarr.open_group(str(store), path="chr22", mode="r")
    with pysam.VariantFile(str(out)) as vcf:
        header = str(vcf.header)
        records = list(vcf)
    assert len(records) == 12
    identity = reader.identity
    assert f"##pangolinReference=chr22.fa.gz sha256:{identity.reference['digest']}" in header
    assert f"##pangolinAnnotation=MANE.v1.3.region.gff3 sha256:{identity.annotation['digest']}" in header
    assert "distance:50" in header and "mask:True" in header and "per_tissue:True" in header
    assert all(f"{name}:{digest}" in header for name, digest in identity.checkpoints.items())
    for record in records:
        snv = f"{record.chrom}:{record.pos}:{record.ref}:{record.alts[0]}"
        value = ",".join(record.info["Pangolin"])
        assert value == lookup_strings(reader, [snv])[0][1]
        genes = official_numbers(value)
        top = max(range(len(genes)), key=lambda k: (max(genes[k][1], -genes[k][3]), -k))
        gene, gain, gain_pos, loss, loss_pos = genes[top]
        info = record.info
        assert (info["PangolinGene"], info["PangolinGainPos"], info["PangolinLossPos"]) == (gene, gain_pos, loss_pos)
        assert info["PangolinGain"] == pytest.approx(gain) and info["PangolinLoss"] == pytest.approx(loss)
        assert info["PangolinLargestDS"] == pytest.approx(gain if gain >= -loss else loss)
        stored = group["tissue_delta"][record.pos - 1, "ACGT".index(record.alts[0]), top]  # (tissue, stat)
        for t, tissue in enumerate(group["tissue"][:]):
            for s, stat in enumerate(group["stat"][:]):
                assert np.float16(info[f"Pangolin_{tissue}_{stat}"]) == stored[t, s]  # exact in the stored dtype


def test_bcftools_filters_and_annotates_with_the_export(store, tmp_path):
    export = tmp_path / "snvs.vcf.gz"
    subprocess.run([".venv/bin/pangolin-pipeline", "export", str(store), "--format", "vcf", "-o", str(export)],
                   check=True, capture_output=True)
    with pysam.VariantFile(str(export)) as vcf:
        records = list(vcf)
    strong = [r for r in records if abs(r.info["PangolinLargestDS"]) >= 0.2]
    picked = subprocess.run(["bcftools", "view", "-H", "-i", "INFO/PangolinLargestDS>=0.2 || "
                             "INFO/PangolinLargestDS<=-0.2", str(export)], check=True, capture_output=True, text=True)
    assert 0 < len(strong) < len(records) and len(picked.stdout.splitlines()) == len(strong)
    # the recipe: copy typed fields into a user's VCF by position and alleles
    mine = tmp_path / "mine.vcf"
    mine.write_text(HEADER.replace("#CHROM", "##contig=<ID=chr22>\n#CHROM")
                    + "".join(f"{r.chrom}\t{r.pos}\tv{k}\t{r.ref}\t{r.alts[0]}\t.\t.\t.\n"
                              for k, r in enumerate(records[::3])))
    mine = pysam.tabix_index(str(mine), preset="vcf", force=True)  # bgzipped and indexed, as bcftools wants
    annotated = subprocess.run(["bcftools", "annotate", "-a", str(export), "-c",
                                "INFO/PangolinGain,INFO/PangolinLoss,INFO/PangolinLargestDS", mine],
                               check=True, capture_output=True, text=True).stdout
    rows = [line.split("\t") for line in annotated.splitlines() if not line.startswith("#")]
    assert len(rows) == len(records[::3])
    for row, record in zip(rows, records[::3]):
        info = dict(entry.split("=") for entry in row[7].split(";"))
        for field in ("PangolinGain", "PangolinLoss", "PangolinLargestDS"):
            assert float(info[field]) == pytest.approx(record.info[field]), (row, field)


def test_lookup_vcf_writes_indexed_bgzf_with_provenance(store, tmp_path, monkeypatch, capsys):
    reference = Reference(FASTA)
    ref = reference.fetch("chr22", 32049941, 32049942).upper()
    vcf = tmp_path / "in.vcf"
    vcf.write_text(HEADER + "".join(f"chr22\t32049942\t.\t{ref}\t{alt}\t.\t.\t.\n" for alt in "ACGT" if alt != ref))
    out = tmp_path / "out.vcf.gz"
    code, _, err = run_cli(monkeypatch, capsys, "lookup", store, "--vcf", vcf, "-o", out, "--index")
    assert code == 0, err
    assert (tmp_path / "out.vcf.gz.tbi").exists()
    with pysam.VariantFile(str(out)) as annotated:
        assert "##pangolinSnvStore=s.zarr" in str(annotated.header)
        assert [len(r.info["Pangolin"]) for r in annotated] == [1, 1, 1]
