"""The track readers (query, export, plot) name what a path is when it is not a splice-track store: an
all-SNV store (pointing to what reads one), a path that does not exist. xarray still opens an all-SNV
store, and its scalar labels drop their dimensions."""

from __future__ import annotations

import pytest
import xarray as xr

from pipeline.errors import StoreError
from pipeline.snvs.reader import SnvReader
from pipeline.store.labels import ALTS
from pipeline.tracks.export import export_tracks
from pipeline.tracks.plot import plot_region
from pipeline.tracks.reader import TrackReader, open_chrom

from ..conftest import run_cli

REGION = "chr17:41276126-41276130"
ALL_SNV = r"is an all-SNV store \(made by saturate\): use `lookup` or `export --format vcf`"


def test_track_readers_refuse_an_all_snv_store_by_name(snv_store, tmp_path):
    with pytest.raises(StoreError, match=ALL_SNV):
        TrackReader(snv_store)
    with pytest.raises(StoreError, match=ALL_SNV):
        export_tracks(snv_store, tmp_path / "tracks", "bigwig")
    with pytest.raises(StoreError, match=ALL_SNV):
        plot_region(snv_store, REGION, tmp_path / "x.png")
    assert not list(tmp_path.iterdir())  # nothing written


@pytest.mark.parametrize("command", [["query", REGION], ["export", "--format", "bigwig", "--out", "OUT"],
                                     ["export", "--format", "bedgraph", "--out", "OUT"],
                                     ["plot", REGION, "--out", "OUT.png"]])
def test_cli_says_all_snv_store_in_one_line(snv_store, tmp_path, monkeypatch, capsys, command):
    args = [str(tmp_path / a) if a.startswith("OUT") else a for a in command]
    code, out, err = run_cli(monkeypatch, capsys, args[0], snv_store, *args[1:])
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and "all-SNV store (made by saturate)" in err


def test_a_missing_path_is_said_not_to_exist(tmp_path, monkeypatch, capsys):
    missing = tmp_path / "nope.zarr"
    code, _, err = run_cli(monkeypatch, capsys, "query", missing, "chr1:1-5")
    assert code == 2 and err == f"error: {missing} does not exist\n"
    with pytest.raises(StoreError, match="does not exist"):
        xr.open_dataset(missing, engine="pangolin", group="chr1")
    (tmp_path / "empty").mkdir()
    with pytest.raises(StoreError, match="not a Zarr v3 store"):  # exists, but is no store
        TrackReader(tmp_path / "empty")


def test_xarray_scalar_labels_of_an_all_snv_store_drop_their_dimensions(snv_store):
    """`gain` is (position, alt, slot): scalar position and alt leave one value per slot (the genes
    containing the position), and those are what `lookup` answers."""
    ds = open_chrom(snv_store, "chr17")
    reader = SnvReader(snv_store)
    for pos in range(41276126, 41276136):
        ref = chr(int(ds.ref.sel(position=pos)))
        assert ds.ref.sel(position=pos).ndim == 0
        for alt in (a for a in ALTS if a != ref):
            gain = ds.gain.sel(position=pos, alt=alt)
            assert gain.dims == ("slot",) and gain.sizes["slot"] == ds.sizes["slot"]
            summaries, why = reader.lookup("chr17", pos, ref, alt)
            assert why is None
            assert gain.values[: len(summaries)].tolist() == [s.gain for s in summaries]
            first = ds.gain.sel(position=pos, alt=alt).isel(slot=0)
            assert first.ndim == 0 and int(first) == summaries[0].gain
    assert ds.gain.sel(position=[41276126], alt="A").dims == ("position", "slot")  # a list keeps it
