"""The lazy position index selects like pandas does on the same labels, and survives xarray operations."""

from __future__ import annotations

import pickle
import tracemalloc

import cloudpickle
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.errors import PositionNotFound
from pipeline.store.positions import PositionIndex, position_coords

LENGTH = 1_000


def lazy(length: int = LENGTH) -> xr.Dataset:
    """A chromosome-like Dataset: value = 10 * position (+ 0.5 on the minus strand)."""
    positions = np.arange(1, length + 1)
    values = np.stack([positions * 10.0, positions * 10.0 + 0.5])
    ds = xr.Dataset({"v": (("strand", "position"), values)}, coords={"strand": np.array(["+", "-"], dtype=object)})
    return ds.assign_coords(position_coords(length, "chrT"))


def explicit(ds: xr.Dataset) -> xr.Dataset:
    """The same Dataset with its labels materialised in an ordinary pandas index (the oracle)."""
    return ds.drop_indexes("position").drop_vars("position").assign_coords(position=ds.position.values)


def assert_same(a: xr.Dataset, b: xr.Dataset) -> None:
    np.testing.assert_array_equal(a.v.values, b.v.values)
    np.testing.assert_array_equal(a.position.values, b.position.values)
    assert a.v.dims == b.v.dims


inside = st.integers(1, LENGTH)


@settings(max_examples=60, deadline=None)
@given(a=inside, b=inside, step=st.sampled_from([None, 1, 3]))
def test_inclusive_slices_equal_pandas(a, b, step):
    ds = lazy()
    assert_same(ds.sel(position=slice(a, b, step)), explicit(ds).sel(position=slice(a, b, step)))


# bounds anywhere: before position 1, past the chromosome's end, between two positions
anywhere = st.one_of(st.integers(-50, LENGTH + 50), st.floats(-50, LENGTH + 50, allow_nan=False))
parts = st.sampled_from([slice(None), slice(100, 300), slice(None, None, 7), slice(None, None, -1),
                         slice(900, 100, -3)])


@settings(max_examples=80, deadline=None)
@given(a=st.one_of(st.none(), anywhere), b=st.one_of(st.none(), anywhere), part=parts)
def test_slices_past_either_end_clip_like_pandas(a, b, part):
    ds = lazy().isel(position=part)
    bounds = slice(a, b) if ds.position.values[0] <= ds.position.values[-1] else slice(b, a)
    assert_same(ds.sel(position=bounds), explicit(ds).sel(position=bounds))


@settings(max_examples=80, deadline=None)
@given(labels=st.lists(anywhere, min_size=1, max_size=10), part=parts)
def test_nearest_snaps_anything_like_pandas(labels, part):
    ds = lazy().isel(position=part)
    assert_same(ds.sel(position=labels, method="nearest"), explicit(ds).sel(position=labels, method="nearest"))
    assert_same(ds.sel(position=labels[0], method="nearest"), explicit(ds).sel(position=labels[0], method="nearest"))


@settings(max_examples=60, deadline=None)
@given(labels=st.lists(inside, min_size=1, max_size=20), start=st.integers(0, 500), step=st.sampled_from([1, 2, -1]))
def test_lists_and_scalars_equal_pandas_after_isel(labels, start, step):
    ds = lazy().isel(position=slice(start, None, step) if step > 0 else slice(None, start, step))
    present = [p for p in labels if p in set(ds.position.values.tolist())]
    if present:
        assert_same(ds.sel(position=present), explicit(ds).sel(position=present))
        assert_same(ds.sel(position=present[0]), explicit(ds).sel(position=present[0]))
        span = slice(min(labels), max(labels)) if step > 0 else slice(max(labels), min(labels))
        assert_same(ds.sel(position=span), explicit(ds).sel(position=span))
    missing = [p for p in labels if p not in present]
    if missing:
        with pytest.raises(KeyError, match="not in this selection"):
            ds.sel(position=missing)


def test_scalar_slice_list_values():
    ds = lazy()
    assert float(ds.v.sel(strand="+", position=32)) == 320.0
    assert ds.sel(position=slice(5, 8)).position.values.tolist() == [5, 6, 7, 8]  # both ends
    assert ds.sel(position=[1, LENGTH]).v.sel(strand="-").values.tolist() == [10.5, LENGTH * 10 + 0.5]
    points = xr.DataArray([3, 7], dims="site")
    assert ds.sel(position=points).v.dims == ("strand", "site")
    assert isinstance(ds.sel(position=slice(101, 200)).xindexes["position"], PositionIndex)


@pytest.mark.parametrize("label", [0, LENGTH + 1, [5, LENGTH + 7]])
def test_outside_the_chromosome_is_a_clear_key_error(label):
    with pytest.raises(PositionNotFound, match=f"outside chrT \\(1 to {LENGTH:,}\\)"):
        lazy().sel(position=label)


def test_slices_return_what_lies_inside_them():
    ds = lazy()
    assert ds.sel(position=slice(LENGTH - 2, LENGTH + 10)).position.values.tolist() == [LENGTH - 2, LENGTH - 1, LENGTH]
    assert ds.sel(position=slice(-3, 2)).position.values.tolist() == [1, 2]
    assert ds.sel(position=slice(LENGTH + 1, LENGTH + 9)).sizes["position"] == 0
    assert ds.sel(position=slice(2.5, 4.5)).position.values.tolist() == [3, 4]


def test_bad_labels_and_methods():
    ds = lazy()
    with pytest.raises(KeyError, match="1-based integers"):
        ds.sel(position=3.5)
    with pytest.raises(KeyError, match="1-based integers"):
        ds.sel(position="32,151,001")
    with pytest.raises(ValueError, match="not to slices"):
        ds.sel(position=slice(1, 5), method="nearest")
    with pytest.raises(ValueError, match="method=None or 'nearest'"):
        ds.sel(position=5, method="ffill")
    assert float(ds.v.sel(strand="+", position=5.0)) == 50.0  # integral floats are positions


def test_nearest_snaps_to_the_index_within_tolerance():
    region = lazy().sel(position=slice(101, 200))
    assert int(region.sel(position=99, method="nearest").position) == 101
    assert region.sel(position=[50, 150, 999], method="nearest").position.values.tolist() == [101, 150, 200]
    every_tenth = lazy().isel(position=slice(None, None, 10))  # 1, 11, 21, ...
    assert int(every_tenth.sel(position=17, method="nearest").position) == 21
    assert int(every_tenth.sel(position=17, method="nearest", tolerance=4).position) == 21
    with pytest.raises(KeyError, match="no position within 2"):
        every_tenth.sel(position=17, method="nearest", tolerance=2)
    assert int(region.sel(position=LENGTH + 1, method="nearest").position) == 200  # past the end: the end
    assert int(lazy().sel(position=0, method="nearest").position) == 1
    assert int(region.sel(position=150.4, method="nearest").position) == 150
    assert float(lazy().v.sel(position=3.5, method="nearest").sel(strand="+")) == 40.0  # a tie: the larger, as pandas
    with pytest.raises(KeyError, match="no position within 5"):
        region.sel(position=LENGTH + 1, method="nearest", tolerance=5)


def test_isel_keeps_labels():
    ds = lazy()
    part = ds.isel(position=slice(100, 200))
    assert part.xindexes["position"].transform.first == 101 and part.sizes["position"] == 100
    assert float(part.v.sel(strand="+", position=150)) == 1500.0
    picked = ds.isel(position=[5, 2])
    assert picked.position.values.tolist() == [6, 3] and float(picked.v.sel(strand="+", position=3)) == 30.0
    assert "position" not in ds.isel(position=7).xindexes and int(ds.isel(position=7).position) == 8


def test_concat_to_dataframe_and_pickle():
    ds = lazy()
    stacked = xr.concat([ds.sel(strand="+"), ds.sel(strand="-")], dim="strand")
    assert stacked.xindexes["position"].equals(ds.xindexes["position"])
    joined = xr.concat([ds.sel(position=slice(1, 10)), ds.sel(position=slice(11, 20))], dim="position")
    assert isinstance(joined.xindexes["position"], PositionIndex) and joined.sizes["position"] == 20
    gapped = xr.concat([ds.sel(position=slice(1, 3)), ds.sel(position=slice(8, 9))], dim="position")
    assert gapped.position.values.tolist() == [1, 2, 3, 8, 9] and float(gapped.v.sel(strand="+", position=8)) == 80.0
    frame = ds.sel(position=slice(3, 5)).to_dataframe()
    assert frame.index.get_level_values("position").tolist() == [3, 4, 5, 3, 4, 5]
    assert frame.loc[("-", 4), "v"] == 40.5
    for dumps, loads in ((pickle.dumps, pickle.loads), (cloudpickle.dumps, pickle.loads)):
        back = loads(dumps(ds.sel(position=slice(101, 200))))
        assert isinstance(back.xindexes["position"], PositionIndex)
        assert back.sel(position=slice(190, None)).position.values.tolist() == list(range(190, 201))


def test_to_zarr_round_trip(tmp_path):
    region = lazy().sel(position=slice(101, 200))
    region.to_zarr(tmp_path / "r.zarr", zarr_format=3, consolidated=False)
    plain = xr.open_zarr(tmp_path / "r.zarr", consolidated=False)  # labels were written as an ordinary coordinate
    assert plain.position.values.tolist() == list(range(101, 201))
    assert float(plain.v.sel(strand="+", position=150)) == 1500.0
    relabelled = plain.drop_indexes("position").set_xindex("position", PositionIndex, length=LENGTH, chrom="chrT")
    assert isinstance(relabelled.xindexes["position"], PositionIndex)
    xr.testing.assert_equal(relabelled.compute(), region)
    with pytest.raises(ValueError, match="not evenly spaced"):
        plain.isel(position=[0, 1, 5]).drop_indexes("position").set_xindex("position", PositionIndex)


def test_a_whole_genome_of_indexes_allocates_nothing_per_base():
    tracemalloc.start()
    coords = [position_coords(250_000_000, f"chr{n}") for n in range(25)]
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 1e6, f"{peak / 1e6:.1f} MB for 25 chromosome indexes"
    assert int(coords[0]["position"][-1]) == 250_000_000
    assert isinstance(coords[0].xindexes["position"].to_pandas_index(), pd.RangeIndex)
