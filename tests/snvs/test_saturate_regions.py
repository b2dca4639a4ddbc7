"""`saturate` through the command line with every kind of region on real annotations: exons:N, genes, a BED
file. The tile list of exon regions once held numpy ints, which no store could hold as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ..conftest import DATA, TWO_GENES, WEIGHTS, run_cli

BRCA1 = DATA / "grch37-brca1"
CHR22 = DATA / "grch38-chr22"
# (FASTA, annotation, extra flags): a GENCODE-derived GTF, NCBI MANE GFF3s, the tests' small GTF
ANNOTATIONS = {
    "brca1-gtf": (BRCA1 / "chr17.fa.gz", BRCA1 / "canonical.gtf", ()),
    "chr22-mane-gff3": (CHR22 / "chr22.fa.gz", CHR22 / "MANE.v1.3.chr22.gff3", ()),
    "chr22-region-gff3": (CHR22 / "chr22.fa.gz", CHR22 / "MANE.v1.3.region.gff3", ("--chrom", "chr22")),
    "two-genes-gtf": (CHR22 / "chr22.fa.gz", TWO_GENES, ()),
}
# a few bases at SLC5A1's exon-2 acceptor (chr22) and in BRCA1 (chr17)
BEDS = {"chr22": "chr22\t32049940\t32049943\n", "chr17": "chr17\t41215350\t41215353\n"}


def regions_of(kind: str, fasta: Path, tmp_path: Path) -> str:
    if kind != "bed":
        return kind
    bed = tmp_path / "regions.bed"
    bed.write_text(BEDS["chr17" if "grch37" in str(fasta) else "chr22"])
    return str(bed)


def stored_tiles(store: Path) -> list[dict]:
    return json.loads((store / "_tiles" / "zarr.json").read_text())["attributes"]["tiles"]


CASES = [("brca1-gtf", "exons:5"), ("brca1-gtf", "exons"), ("brca1-gtf", "genes"), ("brca1-gtf", "bed"),
         ("chr22-mane-gff3", "exons:5"), ("chr22-region-gff3", "exons:5"), ("two-genes-gtf", "exons:5"),
         ("two-genes-gtf", "genes"), ("two-genes-gtf", "bed")]


@pytest.mark.parametrize(("name", "kind"), CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_init_only_with_every_kind_of_region(name, kind, tmp_path, monkeypatch, capsys):
    fasta, annotation, flags = ANNOTATIONS[name]
    store = tmp_path / "snvs.zarr"
    code, _, err = run_cli(monkeypatch, capsys, "saturate", "--fasta", fasta, "--annotation", annotation, *flags,
                           "--weights", WEIGHTS, "--regions", regions_of(kind, fasta, tmp_path), "--out", store,
                           "--init-only")
    assert code == 0, err
    assert f"store {store}: " in err and " SNVs" in err
    tiles = stored_tiles(store)
    assert tiles
    code, out, err = run_cli(monkeypatch, capsys, "status", store)
    assert code == 0, err
    assert out.startswith(f"tiles 0/{len(tiles)}, bases 0/")


@pytest.mark.slow
def test_a_real_run_of_exons_plus_flank(tmp_path, monkeypatch, capsys):
    # NBR1 with only its 19-base exon 4 (real coordinates): exons:2 is 23 bases, one tile, seconds to score
    gtf = tmp_path / "nbr1_exon4.gtf"
    lines = (BRCA1 / "canonical.gtf").read_text().splitlines(keepends=True)
    gtf.write_text("".join(line for line in lines if '"NBR1"' in line
                           and (line.split("\t")[2] in ("gene", "transcript") or 'exon_number "4";' in line)))
    store = tmp_path / "nbr1.zarr"
    code, _, err = run_cli(monkeypatch, capsys, "saturate", "--fasta", BRCA1 / "chr17.fa.gz", "--annotation", gtf,
                           "--weights", WEIGHTS, "--regions", "exons:2", "--out", store, "--cluster", "none", "--quiet")
    assert code == 0, err
    assert "bases_done=23" in err and "(69 SNVs in the store)" in err
    code, out, _ = run_cli(monkeypatch, capsys, "status", store)
    assert (code, out.strip()) == (0, "tiles 1/1, bases 23/23")
    # the exon's first base (1-based 41,331,411) and the flank base before it are in the store
    for pos in (41_331_409, 41_331_411, 41_331_431):
        ref = _ref(pos)
        alt = "A" if ref != "A" else "C"
        code, out, err = run_cli(monkeypatch, capsys, "lookup", store, f"chr17:{pos}:{ref}:{alt}")
        assert code == 0, err
        assert out.startswith(f"chr17:{pos}:{ref}:{alt}\tNBR1|"), out
    ref = _ref(41_331_408)
    code, out, _ = run_cli(monkeypatch, capsys, "lookup", store, f"chr17:41331408:{ref}:{'A' if ref != 'A' else 'C'}")
    assert out.rstrip().endswith("not_in_store")  # three bases before the exon: outside exons:2


def _ref(pos: int) -> str:
    from pipeline.genome.fasta import Reference

    return Reference(BRCA1 / "chr17.fa.gz").fetch("chr17", pos - 1, pos).upper()
