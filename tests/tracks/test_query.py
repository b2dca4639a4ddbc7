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
from pipeline.tracks.query import sites, to_table
from pipeline.tracks.reader import TrackReader

from ..conftest import run_cli, two_gene_config

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
    ds = TrackReader(small_store).select("PLUS1")
    assert list(ds.strand.values) == ["+"]
    assert int(ds.position[0]) == PLUS_GENE[0] + 1 and int(ds.position[-1]) == PLUS_GENE[1]
    assert not np.isnan(ds.p_splice.values).any()


def test_table_equals_store(small_store):
    store = TrackReader(small_store)
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
    raw = TrackReader(small_store).dataset("chr22")
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
    store = TrackReader(small_store)
    found = sites(store.select("PLUS1"), threshold=0.5)
    assert set(found.strand) == {"+"} and (found.p_splice >= 0.5).all()
    assert set(found.position) == {32049943, 32050014}  # both ends of exon 2 of SLC5A1 (MANE)
    out = plot_region(small_store, "PLUS1", tmp_path / "p.png")
    assert out.stat().st_size > 10_000


def test_bad_queries(small_store):
    store = TrackReader(small_store)
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
    from pipeline.tracks.reader import open_chrom

    ds = open_chrom(small_store, "chr22")
    store = TrackReader(small_store)
    first, last = 32049940, 32050020  # 1-based, across both ends of SLC5A1 exon 2
    region = ds.sel(position=slice(first, last))
    selected = store.select(f"chr22:{first:,}-{last:,}")
    xr.testing.assert_identical(region.p_splice.load(), selected.p_splice.load())
    assert region.position.values.tolist() == list(range(first, last + 1))
    app(["query", str(small_store), f"chr22:{first}-{last}", "--strand", "+", "--tissue", "brain"],
        standalone_mode=False)
    tsv = pd.read_csv(io.StringIO(capsys.readouterr().out), sep="\t", comment="#")
    assert tsv.position.tolist() == region.position.values.tolist()
    brain = region.p_splice.sel(strand="+", tissue="brain").values
    np.testing.assert_array_equal(tsv.brain_p_splice.to_numpy().astype(brain.dtype), brain)  # exactly, read back
    scalar = ds.p_splice.sel(position=32049943, strand="+")
    np.testing.assert_array_equal(scalar.values, store.select("chr22:32049943", strand="+").p_splice[0, 0].values)
    listed = ds.p_splice.sel(position=[32049943, 32050014], strand="+")
    np.testing.assert_array_equal(listed.values, region.p_splice.sel(strand="+").values[[3, 74]])
    for outside in (0, 50818469, [5, 50818469]):
        with pytest.raises(PositionNotFound, match="outside chr22"):
            ds.sel(position=outside)
    past_end = ds.p_splice.sel(position=slice(50818460, 50818470))  # a slice returns what lies inside it
    with pytest.warns(UserWarning, match="clipped to chr22:50,818,460-50,818,468"):  # query clips with a warning
        clipped = store.select("chr22:50818460-50818470")
    xr.testing.assert_identical(past_end.load(), clipped.p_splice.load())
    assert past_end.position.values.tolist() == list(range(50818460, 50818469))
    nearest = ds.p_splice.sel(position=[32049942.6, 50818479, -3], method="nearest")  # snapped, as pandas does
    assert nearest.position.values.tolist() == [32049943, 50818468, 1]



@pytest.fixture(scope="module")
def float32_store(tmp_path_factory, weights_dir):
    """The small store's genes stored as float32 (`--store-dtype float32`)."""
    from pipeline.tracks.plan import run_tracks as run

    out = tmp_path_factory.mktemp("float32") / "store.zarr"
    run(two_gene_config(out, store_dtype="float32"))
    return out


def significant_digits(token: str) -> int:
    """Significant digits of a decimal number as printed (``0.04614`` 4, ``1e-07`` 1, ``0.0`` 1)."""
    mantissa = token.lower().split("e")[0].lstrip("-").replace(".", "")
    return max(len(mantissa.strip("0")), 1)


def fewest_digits(value: np.floating) -> int:
    """Fewest significant digits of a decimal that reads back as exactly ``value`` in its dtype."""
    return next(digits for digits in range(1, 18) if type(value)(float(f"{value:.{digits - 1}e}")) == value)


def assert_exact_and_shortest(tokens: pd.Series, expected: np.ndarray) -> None:
    """``tokens`` (as printed) read back as ``expected`` in its dtype, each in as few digits as can."""
    missing = tokens.isna() | tokens.isin(["NA"])
    np.testing.assert_array_equal(missing.to_numpy(), np.isnan(expected))
    values = expected[~missing.to_numpy()]
    printed = tokens[~missing].tolist()
    np.testing.assert_array_equal(np.array([float(t) for t in printed]).astype(expected.dtype), values)
    longer = [(t, v) for t, v in zip(printed, values) if significant_digits(t) > fewest_digits(v)]
    assert not longer, f"{len(longer)} values printed longer than needed, e.g. {longer[:3]}"


@pytest.mark.parametrize("dtype", ["float16", "float32"])
@pytest.mark.parametrize("fmt,sep", [("tsv", "\t"), ("csv", ",")])
def test_text_tables_read_back_as_exactly_the_stored_values(small_store, float32_store, monkeypatch, capsys,
                                                            dtype, fmt, sep):
    from pipeline.tracks.reader import open_chrom

    store = small_store if dtype == "float16" else float32_store
    first, last = 32048401, 32048600  # 100 unscored positions, then PLUS1; both strands
    code, text, err = run_cli(monkeypatch, capsys, "query", store, f"chr22:{first}-{last}", "--format", fmt)
    assert code == 0, err
    table = pd.read_csv(io.StringIO(text), sep=sep)  # reader defaults
    tokens = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)  # the text itself
    ds = open_chrom(store, "chr22").sel(position=slice(first, last))
    assert ds.p_splice.dtype == dtype
    for strand in ("+", "-"):
        rows = (table.strand == strand).to_numpy()
        assert table.position[rows].tolist() == list(range(first, last + 1))
        for tissue in ds.tissue.values:
            for metric in ("p_splice", "usage"):
                expected = ds[metric].sel(strand=strand, tissue=tissue).values
                column = f"{tissue}_{metric}"
                np.testing.assert_array_equal(table[column][rows].to_numpy().astype(dtype), expected)
                assert_exact_and_shortest(tokens[column][rows], expected)


@pytest.mark.parametrize("dtype", ["float16", "float32"])
def test_json_records_read_back_as_exactly_the_stored_values(small_store, float32_store, tmp_path, dtype):
    import json

    from pipeline.tracks.query import write_table

    store = TrackReader(small_store if dtype == "float16" else float32_store)
    selected = store.select("chr22:32048491-32048510")
    with open(tmp_path / "t.json", "w") as handle:
        write_table(to_table(selected), "json", handle)
    records = json.loads((tmp_path / "t.json").read_text(), parse_float=str)  # numbers as printed
    assert [(r["chrom"], r["position"], r["strand"]) for r in records] == [
        ("chr22", p, s) for s in selected.strand.values for p in range(32048491, 32048511)]
    for tissue in selected.tissue.values:
        for metric in ("p_splice", "usage"):
            tokens = pd.Series([r[f"{tissue}_{metric}"] for r in records], dtype=object)
            expected = selected[metric].sel(tissue=tissue).values.reshape(-1)  # strand by strand, as the rows
            assert_exact_and_shortest(tokens, expected)


def test_parquet_keeps_every_row_and_unscored_rows_cost_little(small_store, tmp_path):
    from pipeline.tracks.query import write_table

    store = TrackReader(small_store)
    selected = store.select("chr22:32,000,001-32,400,000")  # 2 x 400,000 rows, 2 x 3,000 of them scored
    table = to_table(selected)
    with open(tmp_path / "t.parquet", "wb") as handle:
        write_table(table, "parquet", handle)
    back = pd.read_parquet(tmp_path / "t.parquet")
    assert len(back) == 2 * selected.sizes["position"]  # the table's contract: a row per position and strand
    pd.testing.assert_frame_equal(back, table, check_dtype=True)
    table.to_parquet(tmp_path / "plain.parquet", index=False)  # pandas' defaults, for scale
    assert (tmp_path / "t.parquet").stat().st_size < (tmp_path / "plain.parquet").stat().st_size / 10
