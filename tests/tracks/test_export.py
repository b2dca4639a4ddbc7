"""Exports read each block once and still write every tissue, metric and strand exactly as stored."""

from __future__ import annotations

import numpy as np
import pyBigWig

from pipeline.store.manifest import Manifest
from pipeline.tracks import export
from pipeline.tracks.query import METRICS
from pipeline.tracks.reader import TrackReader

SPAN = (32048000, 32154000)  # 0-based, both genes of the small store


def test_every_bigwig_equals_the_store_and_each_block_is_read_once(small_store, tmp_path, monkeypatch):
    from xarray.backends.zarr import ZarrArrayWrapper

    reads = []
    original = ZarrArrayWrapper.__getitem__
    monkeypatch.setattr(ZarrArrayWrapper, "__getitem__",
                        lambda self, key: reads.append(self._array.basename) or original(self, key))
    paths = export.export_tracks(small_store, tmp_path, "bigwig")
    blocks = len(Manifest(small_store).tiles())  # one shard of one strand each
    assert len(paths) == 16
    assert sorted(r for r in reads if r in METRICS) == ["p_splice"] * blocks + ["usage"] * blocks  # not once per tissue
    ds = TrackReader(small_store).dataset("chr22")
    for tissue in ds.tissue.values:
        for metric in METRICS:
            for strand, name in export.TRACK_STRANDS.items():
                expected = ds[metric].sel(strand=strand, tissue=tissue).isel(position=slice(*SPAN)).values
                with pyBigWig.open(str(tmp_path / f"{tissue}.{metric}.{name}.bw")) as bw:
                    values = np.array(bw.values("chr22", *SPAN), dtype=np.float32)
                np.testing.assert_array_equal(values, expected.astype(np.float32), err_msg=f"{tissue} {metric}")


def test_runs_are_maximal_and_skip_gaps():
    values = np.array([np.nan, 1, 1, 2, np.nan, np.nan, 2, 2, 3], dtype=np.float32)
    assert list(export.runs(values)) == [(1, 3, 1.0), (3, 4, 2.0), (6, 8, 2.0), (8, 9, 3.0)]
    assert list(export.runs(np.full(4, np.nan, dtype=np.float32))) == []
