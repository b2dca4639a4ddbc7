"""Queries, exports and plots read back exactly what the store holds."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pyBigWig
import pytest
import xarray as xr

from pipeline.errors import ContigNotFound, RegionError
from pipeline.genome.regions import parse_region
from pipeline.tracks.export import export_tracks
from pipeline.tracks.plot import plot_region
from pipeline.tracks.query import Store, sites, to_table

from .conftest import run_cli

PLUS_GENE = (32048500, 32051500)  # PLUS1, 0-based half-open


@pytest.mark.parametrize("text,expected", [
    ("chr17:41,196,312-41,277,500", ("chr17", 41196311, 41277500)),
    ("chr17:41196312-41277500", ("chr17", 41196311, 41277500)),
    ("17:41_196_312 - 41_277_500", ("17", 41196311, 41277500)),
    ("chr1:5", ("chr1", 4, 5)),
    ("chrM", ("chrM", 0, None)),
])
def test_region_forms(text, expected):
    region = parse_region(text)
    assert (region.chrom, region.start, region.end) == expected


@pytest.mark.parametrize("text", ["chr1:10-5", "chr1:0-5", "chr1:a-b", "", "chr1:5-"])
def test_bad_regions(text):
    with pytest.raises(RegionError):
        parse_region(text)


def test_gene_query_is_exactly_the_gene(small_store):
    ds = Store(small_store).select("PLUS1")
    assert list(ds.strand.values) == ["+"]
    assert int(ds.position[0]) == PLUS_GENE[0] + 1 and int(ds.position[-1]) == PLUS_GENE[1]
    assert not np.isnan(ds.p_splice.values).any()


def test_table_equals_store(small_store):
    store = Store(small_store)
    table = to_table(store.select("chr22:32,048,401-32,048,600"))
    raw = store.dataset("chr22")
    assert len(table) == 400 and table.columns[:3].tolist() == ["chrom", "position", "strand"]
    plus = table[table.strand == "+"]
    expected = raw.p_splice.sel(strand="+", tissue="brain").isel(position=slice(32048400, 32048600)).values
    np.testing.assert_array_equal(plus.brain_p_splice.to_numpy(), expected.astype(np.float32))
    assert plus.brain_p_splice.isna().sum() == 100  # 32,048,401-32,048,500 lie outside PLUS1




@pytest.mark.parametrize("fmt,sep", [("tsv", "\t"), ("csv", ",")])
def test_query_cli_tables_load_with_reader_defaults(small_store, monkeypatch, capsys, fmt, sep):
    code, text, err = run_cli(monkeypatch, capsys, "query", small_store, "chr22:32048495-32048510", "--strand", "+",
                              "--format", fmt)
    assert code == 0, err
    table = pd.read_csv(io.StringIO(text), sep=sep)  # pandas defaults: the first line is the header
    assert table.columns[:3].tolist() == ["chrom", "position", "strand"]
    assert table.position.tolist() == list(range(32048495, 32048511))
    assert table.brain_p_splice.isna().sum() == 6 and text.count("\tNA\t" if fmt == "tsv" else ",NA,") >= 6


def test_bigwig_and_bedgraph_equal_store(small_store, tmp_path):
    raw = Store(small_store).dataset("chr22")
    export_tracks(small_store, tmp_path, "bigwig", ["heart"], ["p_splice"])
    export_tracks(small_store, tmp_path, "bedgraph", ["heart"], ["p_splice"])
    expected = raw.p_splice.sel(strand="+", tissue="heart").isel(position=slice(32048000, 32052000)).values
    with pyBigWig.open(str(tmp_path / "heart.p_splice.plus.bw")) as bw:
        values = np.array(bw.values("chr22", 32048000, 32052000), dtype=np.float32)
        assert bw.chroms("chr22") == 50818468
    np.testing.assert_array_equal(values, expected.astype(np.float32))  # NaN gaps stay NaN
    bedgraph = pd.read_csv(tmp_path / "heart.p_splice.plus.bedgraph", sep="\t", skiprows=1, header=None)
    assert bedgraph[1].min() == PLUS_GENE[0] and bedgraph[2].max() == PLUS_GENE[1]
    dense = np.full(4000, np.nan, dtype=np.float32)
    for _, start, end, value in bedgraph.itertuples(index=False):
        dense[start - 32048000 : end - 32048000] = value
    np.testing.assert_array_equal(dense, expected.astype(np.float32))


def test_sites_and_plot(small_store, tmp_path):
    store = Store(small_store)
    found = sites(store.select("PLUS1"), threshold=0.5)
    assert set(found.strand) == {"+"} and (found.p_splice >= 0.5).all()
    assert set(found.position) == {32049943, 32050014}  # both ends of exon 2 of SLC5A1 (MANE)
    out = plot_region(small_store, "PLUS1", tmp_path / "p.png")
    assert out.stat().st_size > 10_000


def test_bad_queries(small_store):
    store = Store(small_store)
    with pytest.raises(RegionError, match="neither a gene"):
        store.select("NOT_A_GENE")
    with pytest.raises(ContigNotFound):
        store.select("chr5:1-10")
    with pytest.raises(RegionError, match="outside"):
        store.select("chr22:50818470-50818480")
    with pytest.raises(RegionError, match="strand"):
        store.select("PLUS1", strand="x")


def test_label_selection_equals_store_select_and_tsv(small_store, capsys):
    from pipeline.cli import app
    from pipeline.errors import PositionNotFound
    from pipeline.store import open_chrom

    ds = open_chrom(small_store, "chr22")
    store = Store(small_store)
    first, last = 32049940, 32050020  # 1-based, across both ends of SLC5A1 exon 2
    region = ds.sel(position=slice(first, last))
    selected = store.select(f"chr22:{first:,}-{last:,}")
    xr.testing.assert_identical(region.p_splice.load(), selected.p_splice.load())
    assert region.position.values.tolist() == list(range(first, last + 1))
    app(["query", str(small_store), f"chr22:{first}-{last}", "--strand", "+", "--tissue", "brain"],
        standalone_mode=False)
    tsv = pd.read_csv(io.StringIO(capsys.readouterr().out), sep="\t", comment="#")
    assert tsv.position.tolist() == region.position.values.tolist()
    np.testing.assert_allclose(tsv.brain_p_splice, region.p_splice.sel(strand="+", tissue="brain").astype(np.float32),
                               rtol=1e-5)  # the TSV prints 6 significant digits
    scalar = ds.p_splice.sel(position=32049943, strand="+")
    np.testing.assert_array_equal(scalar.values, store.select("chr22:32049943", strand="+").p_splice[0, 0].values)
    listed = ds.p_splice.sel(position=[32049943, 32050014], strand="+")
    np.testing.assert_array_equal(listed.values, region.p_splice.sel(strand="+").values[[3, 74]])
    for outside in (0, 50818469, slice(50818460, 50818470)):
        with pytest.raises(PositionNotFound, match="outside chr22"):
            ds.sel(position=outside)
    with pytest.warns(UserWarning, match="clipped to chr22:50,818,460-50,818,468"):  # partly past the end
        assert store.select("chr22:50818460-50818470").sizes["position"] == 9

