"""The default masking transcripts: Ensembl_canonical, else MANE Select (a MANE GFF3 has no
Ensembl_canonical tag), else every transcript with one warning; all-SNV stores record and compare
the tags used."""

from __future__ import annotations

import pickle
import shutil
import warnings
from types import SimpleNamespace

import pytest

from pipeline.config import load_config
from pipeline.errors import VariantError
from pipeline.genome.annotation import GeneFilter, read_genes
from pipeline.genome.digest import sha256_file
from pipeline.snvs.plan import SnvOptions, plan_snvs
from pipeline.variants.scorer import DEFAULT_TAGS, ScoreOptions, load_genes, mask_tags, resolve_tags
from pipeline.variants.stored import check_snv_store

from ..conftest import DATA, WEIGHTS

MANE = DATA / "grch38-chr22" / "MANE.v1.3.region.gff3"
CANONICAL = DATA / "grch37-brca1" / "canonical.gtf"
UNTAGGED = DATA / "grch37-brca1" / "Homo_sapiens.GRCh37.75.BRCA1.gtf"  # Ensembl 75: neither tag


def exons(genes):
    return {g.gene_id: [tuple(e) for e in zip(g.exon_starts, g.exon_ends)] for g in genes.itertuples()}


def test_default_masks_with_mane_select_in_a_mane_gff3(tmp_path, capsys):
    gff = tmp_path / "mane.gff3"  # one more SLC5A1 transcript, untagged, with an exon of its own
    gff.write_text(MANE.read_text()
                   + "chr22\ttest\tmRNA\t32043261\t32113029\t.\t+\t.\tID=rna-X1;Parent=gene-SLC5A1;gene=SLC5A1\n"
                   + "chr22\ttest\texon\t32060001\t32060100\t.\t+\t.\tID=exon-X1-1;Parent=rna-X1;gene=SLC5A1\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        genes = load_genes(str(gff), ScoreOptions())
    assert genes.attrs["mask_tags"] == ("MANE Select",)
    err = capsys.readouterr().err
    assert err == "note: masking with MANE Select transcripts (mane.gff3 has no Ensembl_canonical tag)\n"
    tagged = read_genes(MANE, GeneFilter(tags=("MANE Select",), tags_drop_genes=False))
    assert exons(genes) == exons(tagged)
    assert (32060000, 32060100) in exons(read_genes(gff))["SLC5A1"]  # every transcript's exons: not the default


def test_default_keeps_ensembl_canonical_quietly(capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        genes = load_genes(str(CANONICAL), ScoreOptions())
    assert genes.attrs["mask_tags"] == ("Ensembl_canonical",) and capsys.readouterr().err == ""


def test_explicit_tags_are_not_replaced_and_warn_when_nothing_has_them(capsys):
    with pytest.warns(UserWarning) as caught:
        genes = load_genes(str(MANE), ScoreOptions(tags=("Ensembl_canonical",)))  # given: no MANE Select
    assert [str(w.message) for w in caught if w.category is UserWarning] == [
        "no transcript in MANE.v1.3.region.gff3 is tagged Ensembl_canonical: the exons of every transcript mask "
        "(--mask-tags names others)"]
    assert genes.attrs["mask_tags"] == () and exons(genes) == exons(read_genes(MANE))
    assert capsys.readouterr().err == ""


def test_neither_tag_warns_once_that_every_transcript_masks(capsys):
    with pytest.warns(UserWarning) as caught:
        options = resolve_tags(str(UNTAGGED), ScoreOptions())
    assert [str(w.message) for w in caught if w.category is UserWarning] == [
        "no transcript in Homo_sapiens.GRCh37.75.BRCA1.gtf is tagged Ensembl_canonical or MANE_Select or "
        "MANE Select: the exons of every transcript mask (--mask-tags names others)"]
    assert options.tags == ()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        genes = load_genes(str(UNTAGGED), options)  # resolved options (as on workers) load quietly
    assert exons(genes) == exons(read_genes(UNTAGGED))


def test_the_default_is_marked_through_pickling():
    options = pickle.loads(pickle.dumps(ScoreOptions()))
    assert options.tags == ("Ensembl_canonical",) and type(options.tags) is type(DEFAULT_TAGS)
    assert mask_tags(str(MANE), options.tags) == ("MANE Select",)
    assert mask_tags(str(MANE), ("Ensembl_canonical",)) == ()


def test_an_snv_store_records_the_tags_used(tmp_path, capsys):
    bed = tmp_path / "r.bed"
    bed.write_text("chr22\t32049940\t32049943\n")
    config = load_config(None, fasta=str(DATA / "grch38-chr22" / "chr22.fa.gz"), annotation=str(MANE),
                         out=str(tmp_path / "s.zarr"), weights=str(WEIGHTS), cluster="none")
    plan = plan_snvs(config, SnvOptions(regions=str(bed)))
    assert plan.identity.settings["tags"] == ["MANE Select"]
    assert "note: masking with MANE Select" in capsys.readouterr().err


def fake_store(tags: list[str], annotation) -> SimpleNamespace:
    identity = SimpleNamespace(reference={"digest": "r"}, annotation={"digest": sha256_file(annotation)})
    return SimpleNamespace(path="s.zarr", settings={"distance": 50, "mask": True, "tags": tags}, identity=identity)


def test_score_with_an_snv_store_compares_the_tags_used(tmp_path):
    check_snv_store(fake_store(["MANE Select"], MANE), ScoreOptions(), str(MANE), "r", False)
    check_snv_store(fake_store(["Ensembl_canonical"], CANONICAL), ScoreOptions(), str(CANONICAL), "r", False)
    # a store made before the default became MANE Select masked with every transcript
    old = fake_store(["Ensembl_canonical"], MANE)
    with pytest.raises(VariantError, match=r"masks with the exons of every transcript, this run with the exons of "
                                           r"MANE Select transcripts: .*rerun without the store"):
        check_snv_store(old, ScoreOptions(), str(MANE), "r", False)
    check_snv_store(old, ScoreOptions(tags=("Ensembl_canonical",)), str(MANE), "r", False)  # same masking
    with pytest.raises(VariantError, match=r"rerun with --mask-tags 'MANE Select' or without the store"):
        check_snv_store(fake_store(["MANE Select"], MANE), ScoreOptions(tags=("x",)), str(MANE), "r", False)
    misnamed = tmp_path / "mane.gtf"  # the same file by another name is compared by content
    shutil.copy(MANE, misnamed)
    check_snv_store(fake_store(["MANE Select"], misnamed), ScoreOptions(), str(misnamed), "r", False)
