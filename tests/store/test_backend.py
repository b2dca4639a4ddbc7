"""engine="pangolin": found through its entry point, quiet, labelled; plain Zarr opens cannot shift values."""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import subprocess
import sys
import textwrap
import tracemalloc
import warnings

import numpy as np
import pytest
import xarray as xr
import zarr

from pipeline.errors import ContigNotFound, StoreError
from pipeline.store import consolidate
from pipeline.store.consolidated import is_consolidated
from pipeline.store.positions import PositionIndex
from pipeline.tracks.reader import open_chrom, open_store

P = 32_049_943  # an SLC5A1 acceptor (PLUS1 of the small store), scored on the plus strand


def test_backend_found_through_its_entry_point_in_a_fresh_interpreter(small_store):
    names = [ep.name for ep in importlib.metadata.entry_points(group="xarray.backends")]
    assert "pangolin" in names, "entry point missing: reinstall the package (pip install -e .) to register it"
    script = textwrap.dedent(f"""
        import sys, warnings
        warnings.simplefilter("error")
        import xarray as xr
        assert "pipeline" not in sys.modules
        ds = xr.open_dataset({str(small_store)!r}, engine="pangolin", group="chr22")
        tree = xr.open_datatree({str(small_store)!r}, engine="pangolin")
        print(type(ds.xindexes["position"]).__name__, float(ds.p_splice.sel(strand="+", tissue="brain", position={P})),
              ds.pangolin.chrom, list(tree.children), "torch" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    mine = open_chrom(small_store, "chr22").p_splice.sel(strand="+", tissue="brain", position=P)
    assert out == ["PositionIndex", str(float(mine)), "chr22", "['chr22']", "False"]  # and torch not loaded


def test_plain_zarr_opens_cannot_select_shifted_positions(small_store):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # consolidated metadata: no warning either
        opens = [xr.open_zarr(small_store, group="chr22"), xr.open_dataset(small_store, engine="zarr", group="chr22"),
                 xr.open_datatree(small_store, engine="zarr")["chr22"].to_dataset()]
    labelled = open_chrom(small_store, "chr22")
    for plain in opens:
        assert "position" not in plain.variables and "position" not in plain.dims
        for label in (P, slice(P, P + 9), [P, P + 1]):
            with pytest.raises((KeyError, ValueError)):
                plain.sel(position=label)
            with pytest.raises((KeyError, ValueError)):
                plain.p_splice.sel(position=label)
        # the axis plain xarray sees is named for what it is: 0-based offsets
        np.testing.assert_array_equal(plain.p_splice.isel(offset=P - 1).values,
                                      labelled.p_splice.sel(position=P).values)
        assert "0-based" in plain.p_splice.attrs["offset"]


def test_backend_opens_quietly_with_labels_and_refuses_clearly(small_store, tmp_path):
    assert is_consolidated(small_store)  # written when the run finished
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = xr.open_dataset(small_store, engine="pangolin", group="chr22")
        tree = open_store(small_store)
    assert ds.p_splice.dims == ("strand", "position", "tissue") and "offset" not in ds.p_splice.attrs
    assert isinstance(tree["chr22"].xindexes["position"], PositionIndex) and "_tiles" not in tree.children
    assert int(ds.position[0]) == 1 and ds.sizes["position"] == ds.attrs["length"]
    with pytest.raises(ContigNotFound, match="no chromosome 'chr5'; it holds chr22"):
        xr.open_dataset(small_store, engine="pangolin", group="chr5")
    with pytest.raises(StoreError, match="pass group="):
        xr.open_dataset(small_store, engine="pangolin")
    newer = tmp_path / "newer.zarr"
    shutil.copytree(small_store, newer)
    _edit_root(newer, lambda root: root["attributes"].update(format_version=99))
    with pytest.raises(StoreError, match="has format 99; .* upgrade"):
        open_chrom(newer, "chr22")


def _edit_root(store, edit) -> None:
    path = store / "zarr.json"
    root = json.loads(path.read_text())
    edit(root)
    path.write_text(json.dumps(root))


def test_format_1_stores_read_transparently_and_refuse_resume(small_store, tmp_path):
    old = tmp_path / "format1.zarr"
    shutil.copytree(small_store, old)
    _edit_root(old, lambda root: (root["attributes"].update(format_version=1), root.pop("consolidated_metadata")))
    for name in ("p_splice", "usage"):  # format 1 named the axis `position`, unlabelled
        meta = old / "chr22" / name / "zarr.json"
        array = json.loads(meta.read_text())
        array["dimension_names"] = ["strand", "position", "tissue"]
        del array["attributes"]["offset"]
        meta.write_text(json.dumps(array))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = open_chrom(old, "chr22")
    xr.testing.assert_identical(ds.p_splice.sel(position=slice(P - 5, P + 5)).load(),
                                open_chrom(small_store, "chr22").p_splice.sel(position=slice(P - 5, P + 5)).load())
    from pipeline.store.identity import StoreIdentity, read_identity

    old_identity, new_identity = (StoreIdentity.from_attrs(read_identity(p)) for p in (old, small_store))
    assert old_identity.difference(new_identity) == "format_version: store has 1, this run has 2"  # driver refuses


def test_finalize_consolidates(small_store, tmp_path):
    from typer.testing import CliRunner

    from pipeline.cli import app

    store = tmp_path / "copy.zarr"
    shutil.copytree(small_store, store)
    _edit_root(store, lambda root: root.pop("consolidated_metadata"))
    assert not is_consolidated(store)
    result = CliRunner().invoke(app, ["finalize", str(store)])
    assert result.exit_code == 0, result.output
    assert is_consolidated(store)
    assert zarr.open_consolidated(str(store)).metadata.consolidated_metadata.metadata.keys() >= {"chr22", "_tiles"}


def test_whole_genome_layout_opens_with_bounded_memory(tmp_path):
    from pipeline.bench.queries import GRCH38, empty_store

    store = tmp_path / "grch38.zarr"
    empty_store(store, GRCH38, genes=2_000)
    open_store(store)  # imports and engine list outside the measurement
    tracemalloc.start()
    tree = open_store(store)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert {name: node.sizes["position"] for name, node in tree.children.items()} == GRCH38
    assert peak < 20e6, f"opening 3.1 Gb of positions took {peak / 1e6:.0f} MB"  # labels alone would be 25 GB
    assert int(tree["chr1"].position[-1]) == GRCH38["chr1"]


def test_consolidate_refuses_read_only_store_clearly(tmp_path, monkeypatch):
    def denied(*args, **kwargs):
        raise PermissionError("read-only")

    monkeypatch.setattr(zarr, "consolidate_metadata", denied)
    with pytest.raises(StoreError, match="cannot write consolidated metadata .* permission denied"):
        consolidate(tmp_path)
