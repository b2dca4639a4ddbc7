"""Store identity: what a store was made from, compared on resume with the first difference named."""

from __future__ import annotations

import pytest

from pipeline.errors import StoreError
from pipeline.store.identity import StoreIdentity, check_kind


def identity(**changes) -> StoreIdentity:
    values = dict(format_version=1, kind="track", ensemble="official", compute_dtype="float32",
                  checkpoints={"final.1.0.3.v2": "ab"}, reference={"digest": "r1", "contigs": {"chr1": 100}},
                  annotation={"digest": "a1", "filters": {}}, tiling={"tile_size": 1024, "chunk_size": 256},
                  dtype="float16")
    return StoreIdentity(**{**values, **changes})


def test_equal_identities_have_no_difference_and_round_trip_through_attributes():
    assert identity().difference(identity()) is None
    assert StoreIdentity.from_attrs(identity().to_attrs()) == identity()


def test_the_first_difference_is_named_with_both_values():
    old, new = identity(), identity(reference={"digest": "r2", "contigs": {"chr1": 100}})
    assert old.difference(new) == 'reference.digest: store has "r1", this run has "r2"'
    assert identity().difference(identity(dtype="float32")) == 'dtype: store has "float16", this run has "float32"'


def test_stores_from_before_kind_and_settings_are_tracks():
    attrs = identity().to_attrs()
    del attrs["kind"], attrs["settings"]
    assert StoreIdentity.from_attrs(attrs) == identity()


def test_a_store_of_another_product_is_refused_with_what_was_wanted():
    check_kind(identity(kind="snv").to_attrs(), "snv", "s.zarr")
    check_kind({"format_version": 1}, "track", "old.zarr")  # before `kind`: a track
    with pytest.raises(StoreError, match=r"^s\.zarr is a track store, not an all-SNV store \(made by `saturate`\)$"):
        check_kind(identity().to_attrs(), "snv", "s.zarr")
    with pytest.raises(StoreError, match=r"^s\.zarr is a snv store, not a splice-track store \(made by `run`\)$"):
        check_kind(identity(kind="snv").to_attrs(), "track", "s.zarr")
