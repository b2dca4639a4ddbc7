"""Shard-index bundles (store/shard_indexes.py): written with the consolidated metadata, equal to what
zarr's sharding codec reads from each shard, rewritten when a resumed run consolidates again, invisible
to the package's readers and harmless to plain zarr and xarray; publish refuses a stale one."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import zarr

from pipeline.bench.remote import WRITTEN, chr1_store
from pipeline.errors import StoreError
from pipeline.store import consolidate, shard_indexes
from pipeline.store.publish import publish
from pipeline.store.writes import write_values


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    return chr1_store(tmp_path_factory.mktemp("bundles") / "chr1.zarr")


def bundle_of(path: Path, group: str = "chr1") -> dict:
    data = bytes(zarr.open_array(str(path), path=f"{shard_indexes.GROUP}/{group}", mode="r")[:])
    return shard_indexes.decode(data, "test")


def test_bundle_holds_every_shard_index_as_zarr_reads_it(store):
    bundle = bundle_of(store)
    assert sorted(bundle["arrays"]) == ["chr1/p_splice", "chr1/usage"]  # the sharded arrays, not the labels
    shard_files = sorted((store / "chr1" / "p_splice" / "c").rglob("*"))
    shards = [p for p in shard_files if p.is_file()]
    assert len(shards) == 4 and len(bundle["arrays"]["chr1/p_splice"]["shards"]) == 4
    for shard in shards:
        key = shard.relative_to(store).as_posix()
        size, index = shard_indexes.lookup(bundle, key)
        data = shard.read_bytes()
        assert size == len(data) and len(index) == 16 * 16 + 4 and data.endswith(index)
        # zarr's layout: (offset, length) uint64 pairs per chunk, then the CRC32C; the chunks fill the shard
        pairs = np.frombuffer(index[:-4], "<u8").reshape(-1, 2)
        written = pairs[pairs[:, 0] != np.iinfo(np.uint64).max]
        assert len(written) == 3 and int(written[:, 1].sum()) + len(index) == size
    assert shard_indexes.lookup(bundle, "chr1/p_splice/c/0/0/0") is None  # never written: absent


def test_reading_an_index_through_zarr_gives_the_bundled_bytes(store):
    """What zarr 3.1.6's sharding codec asks the store for (a suffix of the index's size) is the bundle's entry."""
    from zarr.abc.store import SuffixByteRequest
    from zarr.core.buffer import default_buffer_prototype
    from zarr.core.sync import sync
    from zarr.storage import LocalStore

    asked = []
    local = LocalStore(str(store), read_only=True)

    class Recording(type(local)):
        async def get(self, key, prototype, byte_range=None):
            asked.append((key, byte_range))
            return await super().get(key, prototype, byte_range)

    recording = Recording(str(store), read_only=True)
    zarr.open_array(recording, path="chr1/p_splice", mode="r")[0, WRITTEN[1][0] + 10:WRITTEN[1][0] + 20]
    suffixes = [(k, r) for k, r in asked if isinstance(r, SuffixByteRequest)]
    assert len(suffixes) == 1
    key, request = suffixes[0]
    index = sync(local.get(key, default_buffer_prototype(), request)).to_bytes()
    assert shard_indexes.lookup(bundle_of(store), key)[1] == index


def test_plain_zarr_and_xarray_take_the_bundle_quietly(store):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        members = dict(zarr.open_group(str(store), mode="r", use_consolidated=False).members(max_depth=None))
        assert f"{shard_indexes.GROUP}/chr1" in members
        assert xr.open_zarr(store, group="chr1").p_splice.shape == (2, 248_956_422, 4)
        tree = xr.open_datatree(store, engine="zarr")
        assert shard_indexes.GROUP in tree.children
    assert list(xr.open_datatree(store, engine="pangolin").children) == ["chr1"]  # ours shows chromosomes only
    nodes = json.loads((store / "zarr.json").read_text())["consolidated_metadata"]["metadata"]
    assert f"{shard_indexes.GROUP}/chr1" in nodes  # readers by URL learn of it from the one metadata request


def test_consolidating_again_rewrites_a_stale_bundle_and_publish_refuses_it(store, tmp_path):
    copy = tmp_path / "chr1.zarr"
    shutil.copytree(store, copy)
    assert shard_indexes.stale(copy) == []
    start = WRITTEN[1][0]
    values = np.full((65_536, 4), 0.5, dtype=np.float32)  # another compressed size: the offsets move
    write_values(copy, "chr1/p_splice", (0, slice(start, start + 65_536)), values)  # as a resumed tile would
    assert shard_indexes.stale(copy) == ["chr1"]
    with pytest.raises(StoreError, match="shard-index bundles older than its shards .chr1.: run `pangolin"):
        publish(copy, str(tmp_path / "published.zarr"))
    consolidate(copy)  # the end of the resumed run (or finalize)
    assert shard_indexes.stale(copy) == []
    key = f"chr1/p_splice/c/0/{start // 1_048_576}/0"
    assert shard_indexes.lookup(bundle_of(copy), key)[0] == (copy / key).stat().st_size
    report = publish(copy, str(tmp_path / "published.zarr"))
    assert f"{shard_indexes.GROUP}/chr1/c/0" in report.objects and report.objects[-1] == "zarr.json"


def test_a_store_without_bundles_is_not_stale(tmp_path):
    old = chr1_store(tmp_path / "old.zarr", bundles=False)
    assert not (old / shard_indexes.GROUP).exists() and shard_indexes.stale(old) == []
