"""Variant scoring reproduces the official command's outputs in ../shared/golden/official_cli."""

from __future__ import annotations

import pytest

from pipeline.genome.fasta import Reference
from pipeline.variants.driver import score_variants
from pipeline.variants.scorer import ScoreOptions, VariantScorer, load_genes

from ..conftest import DATA, GOLDEN

CLI = GOLDEN / "official_cli"
BRCA = (DATA / "grch37-brca1" / "chr17.fa.gz", DATA / "grch37-brca1" / "canonical.gtf")
CHR22 = (DATA / "grch38-chr22" / "chr22.fa.gz", CLI / "chr22_mane.gtf")
CASES = {
    "pangolin_example_brca.default": (DATA / "grch37-brca1" / "pangolin_example_brca.vcf", *BRCA, ScoreOptions()),
    "brca12.score_cutoff_0.05": (CLI / "brca12.vcf", *BRCA, ScoreOptions(score_cutoff=0.05)),
    "brca12.no_mask": (CLI / "brca12.vcf", *BRCA, ScoreOptions(mask=False)),
    "brca12.score_exons": (CLI / "brca12.vcf", *BRCA, ScoreOptions(score_exons=True)),
    "chr22_dev.default": (CLI / "chr22_dev.vcf", *CHR22, ScoreOptions()),
}


def info_field(line: str, key: str = "Pangolin") -> str | None:
    for entry in line.rstrip("\n").split("\t")[7].split(";"):
        if entry.startswith(key + "="):
            return entry[len(key) + 1 :]
    return None


def normalise(value: str | None) -> list | None:
    """Tokens of a Pangolin value with scores rounded to 2 decimals (the official prints float32s)."""
    if value is None:
        return None
    tokens = []
    for token in value.replace(",", "|,|").split("|"):
        pos, sep, score = token.partition(":")
        if sep and pos.lstrip("-").isdigit() and score != "NA":
            tokens.append((int(pos), round(float(score), 2) + 0.0))
        else:
            tokens.append(token)
    return tokens


def data_lines(path) -> list[str]:
    with open(path) as handle:
        return [line for line in handle if not line.startswith("#")]


# the chr22 development set (the longest case) runs in `make test`; `make test-fast` keeps the others
@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n.startswith("chr22_dev") else n
                                  for n in CASES])
def test_matches_official_output(name, get_ensemble, tmp_path):
    check_against_official(name, get_ensemble(), tmp_path)


def check_against_official(name, ensemble, tmp_path):
    """`score` with ``ensemble`` writes the official command's output for case ``name`` (2 decimals)."""
    vcf, fasta, annotation, options = CASES[name]
    scorer = VariantScorer(ensemble, Reference(fasta), load_genes(annotation, options), options)
    counts = score_variants(vcf, scorer, tmp_path / "out.vcf")
    ours, official = data_lines(tmp_path / "out.vcf"), data_lines(CLI / f"{name}.vcf")
    assert len(ours) == len(official) == len(data_lines(vcf))
    mismatches = []
    for mine, theirs in zip(ours, official):
        assert mine.split("\t")[:5] == theirs.split()[:5] or mine.split("\t")[1:5] == theirs.split()[1:5]
        if normalise(info_field(mine)) != normalise(info_field(theirs)):
            mismatches.append((info_field(mine), info_field(theirs)))
    assert not mismatches, mismatches[:3]
    assert counts["scored"] == len(ours)
