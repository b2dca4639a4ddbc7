"""Fine-tuning labels: sites from real MANE exons (checked against GT..AG), usage tracks, bad targets."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.errors import TargetError
from pipeline.finetune import labels
from pipeline.finetune.labels import ACCEPTOR, DONOR, Track, check_usage, parse_targets, site_labels, splice_sites
from pipeline.genome.annotation import GeneFilter, read_genes
from pipeline.genome.encode import one_hot
from pipeline.genome.fasta import Reference

from ..conftest import DATA

REGION = DATA / "grch38-chr22"


def _reverse_complement(seq: str) -> str:
    return seq.upper()[::-1].translate(str.maketrans("ACGT", "TGCA"))


def test_sites_sit_on_the_exonic_base_next_to_every_gt_ag_intron():
    genes = read_genes(REGION / "MANE.v1.3.region.gff3", GeneFilter(tags=("MANE Select",)))
    sites = splice_sites(genes)
    reference = Reference(REGION / "chr22.fa.gz")
    introns = sum(len(g.exon_starts) - 1 for g in genes.itertuples())
    assert (sites.kind == DONOR).sum() == (sites.kind == ACCEPTOR).sum() == introns == 40  # README: 40 introns
    for site in sites.itertuples():
        # in transcript orientation: donor = exon's last base, then GT; acceptor = AG, then exon's first base
        seq = reference.fetch(site.chrom, site.position - 2, site.position + 3).upper()
        if site.strand == "-":
            seq = _reverse_complement(seq)
        assert seq[3:5] == "GT" if site.kind == DONOR else seq[:2] == "AG", (site, seq)
    # the data README: SLC5A1 (+) exon 2 starts at 32,049,943 (1-based)
    assert ((sites.position == 32_049_942) & (sites.kind == ACCEPTOR) & (sites.strand == "+")).any()


def test_site_labels_place_classes_on_their_strand_only():
    genes = read_genes(REGION / "MANE.v1.3.region.gff3", GeneFilter(tags=("MANE Select",)))
    sites = splice_sites(genes)
    classes = site_labels(sites, "chr22", "+", 32_049_900, 32_050_100)
    assert np.flatnonzero(classes).tolist() == [42, 113] and classes[42] == ACCEPTOR and classes[113] == DONOR
    assert not site_labels(sites, "chr22", "-", 32_049_900, 32_050_100).any()


def _write_bigwig(path, chroms: dict[str, int], entries: list[tuple[str, int, int, float]]) -> None:
    import pyBigWig

    writer = pyBigWig.open(str(path), "w")
    writer.addHeader(list(chroms.items()))
    for chrom, start, end, value in entries:
        writer.addEntries([chrom], [start], ends=[end], values=[value])
    writer.close()


def test_bigwig_and_bedgraph_tracks_read_values_with_nan_gaps_and_contig_aliases(tmp_path):
    _write_bigwig(tmp_path / "u.bw", {"22": 1000}, [("22", 10, 20, 0.5), ("22", 30, 31, 1.0)])
    (tmp_path / "u.bedgraph").write_text("track type=bedGraph\n22\t10\t20\t0.5\n22\t30\t31\t1\n")
    for name in ("u.bw", "u.bedgraph"):
        values = Track(tmp_path / name).values("chr22", 5, 35)  # FASTA name chr22, track name 22
        expected = np.full(30, np.nan, dtype=np.float32)
        expected[5:15], expected[25] = 0.5, 1.0
        np.testing.assert_array_equal(values, expected)


def test_targets_expand_strand_placeholder(tmp_path):
    _write_bigwig(tmp_path / "h.plus.bw", {"chr22": 100}, [("chr22", 0, 10, 0.25)])
    _write_bigwig(tmp_path / "h.minus.bw", {"chr22": 100}, [("chr22", 0, 10, 0.75)])
    targets = parse_targets(f"heart={tmp_path}/h.{{strand}}.bw")
    assert labels.usage_targets(targets, "chr22", "+", 0, 2).tolist() == [[0.25, 0.25]]
    assert labels.usage_targets(targets, "chr22", "-", 0, 2).tolist() == [[0.75, 0.75]]


def test_bad_targets_are_one_line_errors(tmp_path):
    with pytest.raises(TargetError, match="does not exist"):
        parse_targets(f"heart={tmp_path}/missing.bw")
    with pytest.raises(TargetError, match="NAME=PATH"):
        parse_targets("heart.bw")
    _write_bigwig(tmp_path / "x.bw", {"chrX": 100}, [("chrX", 0, 10, 0.5)])
    with pytest.raises(TargetError, match="contig 'chr22' is not in target track x.bw"):
        Track(tmp_path / "x.bw").values("chr22", 0, 10)
    with pytest.raises(TargetError, match="all NaN"):
        check_usage(np.full((1, 5), np.nan, dtype=np.float32), ["heart"], "training")
    with pytest.raises(TargetError, match=r"\[0, 1\]"):
        check_usage(np.array([[0.0, 55.0]], dtype=np.float32), ["heart"], "training")
    (tmp_path / "junk.txt").write_text("not a track at all\n")
    with pytest.raises(TargetError, match="neither bigWig nor bedGraph"):
        Track(tmp_path / "junk.txt")


def test_one_hot_of_reverse_complement_matches_flipped_axes():
    # the feature extraction reverse-complements by flipping both one-hot axes
    seq = "ACGTNacgtn"
    np.testing.assert_array_equal(one_hot(_reverse_complement(seq)), one_hot(seq)[::-1, ::-1])
