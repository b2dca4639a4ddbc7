"""The all-SNV store: entries equal `score` for every SNV (both strands, mask on/off, two distances),
resume equals an uninterrupted run, other settings are refused, lookups never drop a record."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import zarr

from pipeline.cli import main
from pipeline.config import load_config
from pipeline.errors import StoreError, WeightsError
from pipeline.genome.fasta import Reference
from pipeline.precompute.driver import Execution, init_plan, run_part, run_plan
from pipeline.snvs.annotate import annotate_vcf, lookup_strings
from pipeline.snvs.plan import SnvOptions, plan_snvs
from pipeline.snvs.reader import SnvReader
from pipeline.variants.driver import score_variants
from pipeline.variants.scorer import ScoreOptions, VariantScorer, load_genes

from ..conftest import DATA, WEIGHTS
from ..variants.test_golden_cli import data_lines, info_field

FASTA = DATA / "grch38-chr22" / "chr22.fa.gz"
GFF = DATA / "grch38-chr22" / "MANE.v1.3.region.gff3"
# Three positions at SLC5A1's exon-2 acceptor (+ strand) and three at a C22orf42 exon end (- strand),
# in two different 64 Ki tiles.
HEADER = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
BED = "chr22\t32049940\t32049943\nchr22\t32149778\t32149781\n"
pytestmark = pytest.mark.slow


def saturate(tmp_path: Path, name: str, **options) -> tuple[Path, object]:
    bed = tmp_path / "regions.bed"
    bed.write_text(BED)
    config = load_config(None, fasta=str(FASTA), annotation=str(GFF), out=str(tmp_path / name),
                         weights=str(WEIGHTS), tile_size=65_536, chunk_size=4_096, cluster="none")
    plan = plan_snvs(config, SnvOptions(regions=str(bed), **options))
    return Path(config.out), plan


def every_snv_vcf(path: Path) -> Path:
    reference = Reference(FASTA)
    lines = []
    for row in BED.splitlines():
        chrom, start, end = row.split("\t")
        for pos in range(int(start) + 1, int(end) + 1):
            ref = reference.fetch(chrom, pos - 1, pos).upper()
            lines += [f"{chrom}\t{pos}\t.\t{ref}\t{alt}\t.\t.\t." for alt in "ACGT" if alt != ref]
    path.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n" + "\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module", params=[dict(distance=50, mask=True), dict(distance=20, mask=False)],
                ids=["d50-mask", "d20-nomask"])
def built(request, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("snv")
    out, plan = saturate(tmp_path, "snvs.zarr", **request.param)
    status = run_plan(plan, out, Execution("none"))
    assert status["tiles_done"] == status["tiles_total"] == 2
    return out, request.param, every_snv_vcf(tmp_path / "all.vcf")


def test_store_equals_score_for_every_snv(built, get_ensemble, tmp_path):
    store, options, vcf = built
    score_options = ScoreOptions(distance=options["distance"], mask=options["mask"])
    scorer = VariantScorer(get_ensemble(), Reference(FASTA), load_genes(str(GFF), score_options), score_options)
    counts = score_variants(vcf, scorer, tmp_path / "scored.vcf")
    assert counts["scored"] == 18
    computed = [info_field(line) for line in data_lines(tmp_path / "scored.vcf")]
    snvs = [":".join(line.split("\t")[i] for i in (0, 1, 3, 4)) for line in data_lines(vcf)]
    stored = [value for _, value, _ in lookup_strings(SnvReader(store), snvs)]
    assert stored == computed
    assert {v.split("|")[0] for v in stored} == {"SLC5A1", "C22orf42"}  # both strands


def test_score_answers_from_the_store_without_weights(built, tmp_path):
    store, options, vcf = built
    score_options = ScoreOptions(distance=options["distance"], mask=options["mask"])
    genes = load_genes(str(GFF), score_options)
    with_store = VariantScorer(None, Reference(FASTA), genes, score_options, snv_store=SnvReader(store))
    counts = score_variants(vcf, with_store, tmp_path / "from_store.vcf")
    assert counts["from_store"] == counts["scored"] == 18
    expected = [value for _, value, _ in lookup_strings(SnvReader(store), [
        ":".join(line.split("\t")[i] for i in (0, 1, 3, 4)) for line in data_lines(vcf)])]
    assert [info_field(line) for line in data_lines(tmp_path / "from_store.vcf")] == expected
    header = "".join(vcf.read_text().splitlines(keepends=True)[:2])
    # a lowercase multi-allelic record: `lookup --vcf` writes what `score --snv-store` writes (ALT/ upper-case)
    chrom, pos, _, ref, _ = data_lines(vcf)[0].split("\t")[:5]
    alts = [b for b in "acgt" if b != ref.lower()][:2]
    multi = tmp_path / "multi.vcf"
    multi.write_text(header + f"{chrom}\t{pos}\t.\t{ref.lower()}\t{','.join(alts)}\t.\t.\t.\n")
    score_variants(multi, with_store, tmp_path / "multi.score.vcf")
    annotate_vcf(SnvReader(store), multi, tmp_path / "multi.lookup.vcf")
    scored, looked_up = (info_field(data_lines(tmp_path / f"multi.{k}.vcf")[0]) for k in ("score", "lookup"))
    assert scored == looked_up and scored.startswith(f"{alts[0].upper()}/")
    outside = tmp_path / "outside.vcf"
    ref = Reference(FASTA).fetch("chr22", 32049959, 32049960).upper()
    outside.write_text(header + f"chr22\t32049960\t.\t{ref}\t{'G' if ref != 'G' else 'A'}\t.\t.\t.\n")
    with pytest.raises(WeightsError, match="not in the all-SNV store"):
        score_variants(outside, with_store, tmp_path / "outside.out.vcf")


def test_resume_after_a_partial_run_is_identical(built, tmp_path):
    store, options, _ = built
    if options["distance"] != 50:
        pytest.skip("one configuration is enough")
    out, plan = saturate(tmp_path, "resumed.zarr", **options)
    init_plan(plan, out)
    assert len(run_part(out, 0, 2)) == 1  # as if killed after one of two tiles
    run_plan(plan, out, Execution("none"))
    for name in ("ref", "gene", "gain", "gain_pos", "loss", "loss_pos"):
        a, b = zarr.open_array(str(store), path=f"chr22/{name}"), zarr.open_array(str(out), path=f"chr22/{name}")
        np.testing.assert_array_equal(a[32040000:32160000], b[32040000:32160000])


def test_other_settings_are_refused(built, tmp_path):
    store, options, _ = built
    _, plan = saturate(tmp_path, "x.zarr", distance=options["distance"] + 1, mask=options["mask"])
    with pytest.raises(StoreError, match=r"settings\.distance"):
        init_plan(plan, store)


def test_lookup_reports_every_snv(built, tmp_path, monkeypatch, capsys):
    store, _, vcf = built
    rows = lookup_strings(SnvReader(store), ["chr22:32049941:X:T", "chr22:1:A:T", "junk", "22:32049941:A:AT",
                                             "chr22:32049941:TT:G"])
    # an indel or MNV is read, then refused as not an SNV, as `lookup --vcf` refuses it
    assert [reason for _, _, reason in rows] == ["malformed", "not_in_store", "malformed", "not_snv", "not_snv"]
    first = data_lines(vcf)[0].split("\t")
    forms = [f"{first[0]}-{first[1]}-{first[3]}-{first[4]}", f"{first[0]}:{first[1]} {first[3]}>{first[4]}"]
    assert {value for _, value, _ in lookup_strings(SnvReader(store), forms)} == {
        lookup_strings(SnvReader(store), [":".join(first[i] for i in (0, 1, 3, 4))])[0][1]}
    first = data_lines(vcf)[0].split("\t")
    wrong_ref = next(b for b in "ACGT" if b not in (first[3], first[4]))
    assert lookup_strings(SnvReader(store), [f"{first[0]}:{first[1]}:{wrong_ref}:{first[4]}"])[0][2] == "ref_mismatch"
    counts = annotate_vcf(SnvReader(store), vcf, tmp_path / "annotated.vcf")
    assert counts["from_store"] == 18 and len(data_lines(tmp_path / "annotated.vcf")) == 18
    snv = ":".join(first[i] for i in (0, 1, 3, 4))
    monkeypatch.setattr("sys.argv", ["pangolin-pipeline", "lookup", str(store), "chr22:32049941:Q:T", snv])
    main()  # exits only on an error
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "chr22:32049941:Q:T\tNA\tmalformed"
    assert lines[1] == f"{snv}\t{lookup_strings(SnvReader(store), [snv])[0][1]}"


def test_per_tissue_content_equals_the_score_table(get_ensemble, tmp_path):
    bed = tmp_path / "one.bed"
    bed.write_text("chr22\t32049942\t32049943\n")  # SLC5A1's exon-2 acceptor: three SNVs
    config = load_config(None, fasta=str(FASTA), annotation=str(GFF), out=str(tmp_path / "t.zarr"),
                         weights=str(WEIGHTS), tile_size=65_536, chunk_size=4_096, cluster="none")
    run_plan(plan_snvs(config, SnvOptions(regions=str(bed), per_tissue=True)), tmp_path / "t.zarr", Execution("none"))
    ref = Reference(FASTA).fetch("chr22", 32049942, 32049943).upper()
    vcf = tmp_path / "three.vcf"
    vcf.write_text(HEADER + "".join(f"chr22\t32049943\t.\t{ref}\t{alt}\t.\t.\t.\n" for alt in "ACGT" if alt != ref))
    options = ScoreOptions()
    scorer = VariantScorer(get_ensemble(), Reference(FASTA), load_genes(str(GFF), options), options)
    score_variants(vcf, scorer, tmp_path / "scored.vcf", tmp_path / "table.tsv")
    table = pd.read_csv(tmp_path / "table.tsv", sep="\t")
    group = zarr.open_group(str(tmp_path / "t.zarr"), path="chr22", mode="r")
    values, offsets = group["tissue_delta"][32049942], group["tissue_delta_pos"][32049942]  # (alt, slot, tissue, stat)
    tissues, stats = list(group["tissue"][:]), list(group["stat"][:])
    for row in table.itertuples():
        a, t = "ACGT".index(row.alt), tissues.index(row.tissue)
        for s, stat in enumerate(stats):
            # float16 store vs the table's 6 significant digits: equal up to one float16 step
            assert abs(float(values[a, 0, t, s]) - getattr(row, stat)) <= 1e-3 * abs(getattr(row, stat)) + 1e-4
            assert offsets[a, 0, t, s] == getattr(row, f"{stat}_pos"), (row.alt, row.tissue, stat)
