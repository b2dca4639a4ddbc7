"""docs/annotate.md's recipes: the bcftools and vcfanno blocks run as written on an exported all-SNV store
and a user's VCF, each copied value checked against the export and the filter against Python; the VEP
configuration (VEP is not installable here) checked against the export's header."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pysam
import pytest

from ..conftest import REPO
from ..tracks.conftest import snv_store  # noqa: F401  (the BRCA1 all-SNV store fixture)

PAGE = REPO / "docs" / "annotate.md"
TYPED = ["PangolinGene", "PangolinGain", "PangolinGainPos", "PangolinLoss", "PangolinLossPos", "PangolinLargestDS"]
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not shutil.which("bcftools"), reason="bcftools (Debian package; CI installs it)")]


def block(section: str, language: str) -> str:
    """The first ``language`` code block under the page's ``## section`` heading."""
    text = PAGE.read_text()
    start = text.index(f"\n## {section}\n")
    end = text.find("\n## ", start + 1)
    return re.search(rf"```{language}\n(.*?)```", text[start : end if end > 0 else None], re.S).group(1)


def records(path: Path) -> dict[tuple[str, int, str, str], dict]:
    with pysam.VariantFile(str(path)) as vcf:
        return {(r.chrom, r.pos, r.ref, r.alts[0]): dict(r.info) for r in vcf}


@pytest.fixture(scope="module")
def recipe(snv_store, tmp_path_factory) -> Path:  # noqa: F811
    """A folder where the bcftools block ran: snvs.zarr, mine.vcf and what the block wrote."""
    folder = tmp_path_factory.mktemp("recipe")
    (folder / "snvs.zarr").symlink_to(snv_store)
    # SNVs the store holds (chr17:41,276,126-41,276,135), one multi-allelic, an indel, an SNV outside it
    (folder / "mine.vcf").write_text(
        "##fileformat=VCFv4.2\n##contig=<ID=chr17,length=81195210>\n"
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n"
        "chr17\t41276126\tstored\tC\tA\t.\t.\t.\tGT\t0/1\n"
        "chr17\t41276128\tmulti\t{ref}\t{alts}\t.\t.\t.\tGT\t1/2\n"
        "chr17\t41276130\tindel\t{ref2}\t{ref2}T\t.\t.\t.\tGT\t0/1\n"
        "chr17\t41276500\toutside\tA\tG\t.\t.\t.\tGT\t1/1\n".format(**_bases(snv_store)))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    result = subprocess.run(["bash", "-e", "-c", block("bcftools", "bash")], cwd=folder, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return folder


def _bases(store: Path) -> dict[str, str]:
    """The store's REF at two of its positions, and the three ALTs of the first."""
    from pipeline.snvs.reader import SnvReader

    reader = SnvReader(store)
    ref = chr(int(reader.root["chr17/ref"][41276127]))
    ref2 = chr(int(reader.root["chr17/ref"][41276129]))
    return {"ref": ref, "alts": ",".join(b for b in "ACGT" if b != ref), "ref2": ref2}


def test_bcftools_recipe_copies_the_exports_values(recipe):
    exported = records(recipe / "export.vcf.gz")
    annotated = records(recipe / "annotated.vcf.gz")
    assert len(annotated) == 1 + 3 + 1 + 1  # the multi-allelic record split in three
    matched = 0
    for key, info in annotated.items():
        if key in exported:
            assert {k: info[k] for k in TYPED} == {k: exported[key][k] for k in TYPED}, key
            matched += 1
        else:
            assert not set(TYPED) & set(info), key  # the indel and the SNV outside the store get nothing
    assert matched == 4
    strong = records(recipe / "strong.vcf.gz")
    expected = {k for k, info in annotated.items() if "PangolinLargestDS" in info
                and abs(info["PangolinLargestDS"]) >= 0.2}
    assert set(strong) == expected and expected  # chr17-41276126-C-A: gain 0.48


def test_vcfanno_config_names_fields_of_the_export(recipe):
    config = tomllib.loads(block("vcfanno", "toml"))
    header = str(pysam.VariantFile(str(recipe / "export.vcf.gz")).header)
    (annotation,) = config["annotation"]
    assert annotation["file"] == "export.vcf.gz"
    assert len(annotation["fields"]) == len(annotation["names"]) == len(annotation["ops"])
    for field in annotation["fields"]:
        assert f"##INFO=<ID={field}," in header, field
    assert set(annotation["ops"]) == {"self"}


@pytest.mark.skipif(not shutil.which("vcfanno"), reason="vcfanno (Debian package; CI installs it)")
def test_vcfanno_recipe_copies_the_exports_values(recipe):
    (recipe / "pangolin.toml").write_text(block("vcfanno", "toml"))
    result = subprocess.run(["bash", "-e", "-c", block("vcfanno", "bash")], cwd=recipe, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    exported = records(recipe / "export.vcf.gz")
    annotated = records(recipe / "annotated.vcfanno.vcf")
    config = tomllib.loads(block("vcfanno", "toml"))["annotation"][0]
    matched = 0
    for key, info in annotated.items():
        if key not in exported:
            assert not set(config["names"]) & set(info), key  # the indel and the SNV outside the store get nothing
            continue
        for field, name in zip(config["fields"], config["names"], strict=True):
            value, expected = info[name], exported[key][field]
            assert value == pytest.approx(expected) if isinstance(expected, float) else value == expected, (key, name)
        matched += 1
    assert matched == 4


def test_vep_custom_names_fields_of_the_export(recipe):
    command = block("VEP", "bash")
    argument = re.search(r"--custom (\S+)", command).group(1)
    options = dict(part.split("=", 1) for part in argument.split(","))
    assert options["file"] == "export.vcf.gz" and options["format"] == "vcf" and options["type"] == "exact"
    header = str(pysam.VariantFile(str(recipe / "export.vcf.gz")).header)
    fields = options["fields"].split("%")
    assert fields == TYPED
    for field in fields:
        assert f"##INFO=<ID={field}," in header, field
