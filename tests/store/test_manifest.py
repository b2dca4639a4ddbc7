"""The tile manifest: its list holds plain JSON ints whatever the planner handed over, and a store whose
creation stopped before the manifest is named unfinished, not a Zarr traceback."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pipeline.errors import StoreError
from pipeline.store.manifest import Manifest
from pipeline.store.tile import Tile


def test_numpy_ints_in_tiles_are_written_as_plain_ints(tmp_path):
    tile = Tile("chr1", ".", np.int64(3), np.int64(3_072), 4_096, ((np.int64(3_100), np.int32(3_200)),))
    Manifest(tmp_path).write_tiles([tile])
    stored = json.loads((tmp_path / "_tiles" / "zarr.json").read_text())["attributes"]["tiles"]
    assert stored == [{"chrom": "chr1", "strand": ".", "index": 3, "start": 3_072, "end": 4_096,
                       "segments": [[3_100, 3_200]]}]
    assert Manifest.initialised(tmp_path)
    assert Manifest(tmp_path).tiles() == [tile]
    assert Manifest(tmp_path).status()["bases_total"] == 100


def test_a_store_without_its_manifest_is_unfinished(tmp_path):
    (tmp_path / "_tiles" / "done").mkdir(parents=True)  # what a run's lock leaves before creation
    assert Manifest.creation_unfinished(tmp_path) and not Manifest.initialised(tmp_path)
    for call in (lambda m: m.status(), lambda m: m.done_ids(), lambda m: m.tiles()):
        with pytest.raises(StoreError, match=f"store {tmp_path} is unfinished: .* re-run the command that made it"):
            call(Manifest(tmp_path))
