"""Each defect of the official command that this one fixes, and records that must never be lost."""

from __future__ import annotations

import gzip

import pytest

from pipeline.config import load_config
from pipeline.errors import VariantError
from pipeline.genome.fasta import Reference
from pipeline.tracks.plan import run_tracks as run
from pipeline.variants.driver import score_variants
from pipeline.variants.scorer import ScoreOptions, VariantScorer, load_genes
from pipeline.variants.stored import StoredReference

from ..conftest import DATA, GOLDEN, WEIGHTS
from .test_golden_cli import data_lines, info_field

BRCA_FASTA = DATA / "grch37-brca1" / "chr17.fa.gz"
BRCA_GTF = DATA / "grch37-brca1" / "canonical.gtf"
HEADER = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"


def score(ensemble, lines, tmp_path, fasta=BRCA_FASTA, gtf=BRCA_GTF, options=ScoreOptions(), name="in.vcf", store=None,
          **kwargs):
    path = tmp_path / name
    text = HEADER + "".join(line + "\n" for line in lines)
    if name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    scorer = VariantScorer(ensemble, Reference(fasta), load_genes(gtf, options), options,
                           StoredReference(store) if store else None)
    counts = score_variants(path, scorer, tmp_path / "out.vcf", **kwargs)
    return data_lines(tmp_path / "out.vcf"), counts


def gtf_line(chrom, feature, start, end, strand, gene, transcript=None):
    attrs = f'gene_id "{gene}"; gene_name "{gene}";'
    if transcript:
        attrs += f' transcript_id "{transcript}"; tag "Ensembl_canonical";'
    return f"{chrom}\tt\t{feature}\t{start}\t{end}\t.\t{strand}\t.\t{attrs}\n"


def test_mask_does_not_leak_between_genes(get_ensemble, tmp_path):
    # Two minus-strand genes over the same BRCA1 exon end (41,276,132); only A annotates it.
    gtf = tmp_path / "two.gtf"
    gtf.write_text(
        gtf_line("chr17", "gene", 41270000, 41280000, "-", "A")
        + gtf_line("chr17", "transcript", 41270000, 41280000, "-", "A", "A.1")
        + gtf_line("chr17", "exon", 41276034, 41276132, "-", "A", "A.1")
        + gtf_line("chr17", "gene", 41270000, 41280000, "-", "B")
        + gtf_line("chr17", "transcript", 41270000, 41280000, "-", "B", "B.1")
        + gtf_line("chr17", "exon", 41270000, 41270100, "-", "B", "B.1")
    )
    only_b = tmp_path / "b.gtf"
    only_b.write_text("".join(line + "\n" for line in gtf.read_text().splitlines()[3:]))
    variant = ["chr17\t41276133\t.\tC\tT\t.\t.\t."]
    both, _ = score(get_ensemble(), variant, tmp_path, gtf=gtf)
    alone, _ = score(get_ensemble(), variant, tmp_path, gtf=only_b)
    bundles = info_field(both[0]).split(",")
    assert bundles[0].startswith("A|") and bundles[1] == info_field(alone[0])
    assert bundles[0] != bundles[1].replace("B|", "A|")  # A's own mask did apply to A


def test_variant_on_first_base_of_gene(get_ensemble, tmp_path):
    gtf = tmp_path / "g.gtf"
    gtf.write_text(gtf_line("chr17", "gene", 41276133, 41280000, "-", "G"))
    lines, counts = score(get_ensemble(), ["chr17\t41276133\t.\tC\tT\t.\t.\t."], tmp_path, gtf=gtf)
    assert info_field(lines[0]).startswith("G|") and counts["scored"] == 1


def test_lowercase_reference_and_contig_alias_and_gzip(get_ensemble, tmp_path):
    fasta = DATA / "grch38-chr2" / "chr2_1-2333275.fa.gz"
    gtf = DATA / "grch38-chr2" / "canonical.gtf"
    reference = Reference(fasta)
    pos = next(p for p in range(1_500_000, 1_540_000) if reference.fetch("chr2", p - 1, p).islower())
    base = reference.fetch("chr2", pos - 1, pos)
    alt = "A" if base.upper() != "A" else "C"
    lines, counts = score(get_ensemble(), [f"2\t{pos}\t.\t{base.upper()}\t{alt}\t.\t.\t."], tmp_path,
                          fasta=fasta, gtf=gtf, name="in.vcf.gz")
    assert info_field(lines[0]).startswith("TPO|") and counts["scored"] == 1


def test_every_alt_of_multiallelic_records(get_ensemble, tmp_path):
    lines, counts = score(get_ensemble(), ["chr17\t41276133\t.\tC\tT,G\t.\t.\t."], tmp_path)
    golden = {tuple(line.split("\t")[3:5]): info_field(line)
              for line in data_lines(GOLDEN / "official_cli" / "pangolin_example_brca.default.vcf")
              if line.split("\t")[1] == "41276133"}
    value = info_field(lines[0])
    assert counts["scored"] == 2
    assert value.startswith("T/BRCA1|-14:0.81|-1:-0.85|") and ",G/BRCA1|-14:0.81|-1:-0.85|" in value
    assert golden[("C", "T")].startswith("BRCA1|-14:0.81")


def test_variant_near_contig_end_is_scored_with_n_padding(get_ensemble, tmp_path):
    fasta = DATA / "grch38-chr2" / "chr2_1-2333275.fa.gz"
    gtf = DATA / "grch38-chr2" / "canonical.gtf"
    pos = 2_331_000  # inside MYT1L, 2,275 bases from the end of the record
    base = Reference(fasta).fetch("chr2", pos - 1, pos).upper()
    lines, counts = score(get_ensemble(), [f"chr2\t{pos}\t.\t{base}\t{'A' if base != 'A' else 'G'}\t.\t.\t."],
                          tmp_path, fasta=fasta, gtf=gtf)
    assert counts["scored"] == 1 and info_field(lines[0]).startswith("MYT1L|")


def test_no_record_is_lost_and_none_invented(get_ensemble, tmp_path):
    """Every readable line comes out, each scored or with its reason; unreadable lines stop the run
    (naming the line) or, when asked, are left out and counted: never turned into records."""
    lines = [
        "chr17\t41276133\t.\tC\tT\t.\t.\t.",
        "chr17\tnotanumber\t.\tC\tT\t.\t.\t.",
        "garbage",
        "chr17\t41276133\t.\tC\t<DEL>\t.\t.\t.",
        "chr17\t41276133\t.\tG\tT\t.\t.\t.",  # REF mismatch
        "chrUn\t100\t.\tC\tT\t.\t.\t.",
        "chr17\t41100000\t.\tN\tT\t.\t.\t.",  # outside any gene, in the N stretch
        "chr17\t41276133\t.\tCTAA\tGT\t.\t.\t.",  # neither SNV, MNV nor anchored indel
    ]
    with pytest.raises(VariantError, match=r"in\.vcf line 4: POS is not a positive integer .*and 1 more"):
        score(get_ensemble(), lines, tmp_path)
    assert not (tmp_path / "out.vcf").exists()
    with pytest.warns(UserWarning, match=r"2 malformed line\(s\) left out .* line 4"):
        out, counts = score(get_ensemble(), lines, tmp_path, skip_malformed=True)
    assert [line.split("\t")[1] for line in out] == [line.split("\t")[1] for line in lines if line != "garbage"
                                                    and "notanumber" not in line]
    reasons = [info_field(line, "PangolinSkipped") for line in out]
    assert reasons == [None, "unsupported_shape", "ref_mismatch", "unknown_contig", "unsupported_shape",
                       "unsupported_shape"]
    assert counts["scored"] == 1 and sum(counts.values()) == len(lines) - 2


def test_reference_scores_from_a_store(get_ensemble, tmp_path):
    cfg = load_config(None, fasta=str(BRCA_FASTA), annotation=str(BRCA_GTF), out=str(tmp_path / "s.zarr"),
                      weights=str(WEIGHTS), chroms=("chr17",), tile_size=4096, chunk_size=1024, cluster="none",
                      store_dtype="float32", margin=0)
    gtf = tmp_path / "small.gtf"
    gtf.write_text(gtf_line("chr17", "gene", 41275900, 41276400, "-", "BRCA1")
                   + gtf_line("chr17", "transcript", 41275900, 41276400, "-", "BRCA1", "T1")
                   + gtf_line("chr17", "exon", 41276034, 41276132, "-", "BRCA1", "T1"))
    run(load_config(None, **{**cfg.__dict__, "annotation": str(gtf)}))
    variants = ["chr17\t41276133\t.\tC\tT\t.\t.\t.", "chr17\t41276130\t.\tG\tA\t.\t.\t."]
    fresh, _ = score(get_ensemble(), variants, tmp_path, gtf=gtf)
    reused, _ = score(get_ensemble(), variants, tmp_path, gtf=gtf, store=tmp_path / "s.zarr")
    assert fresh == reused
