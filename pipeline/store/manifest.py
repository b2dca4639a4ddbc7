"""The tile list of a store and its done flags, kept inside the Zarr hierarchy.

``_tiles`` is a Zarr group whose attributes list every tile; its array ``done`` holds one uint8
flag per tile in a chunk of its own, so each tile task writes a separate one-byte file and no two
tasks ever touch the same file. A flag is set only after the tile's data is written and flushed;
a run resumes by skipping flagged tiles. (Plain files there would make Zarr readers warn about
unknown objects; the lock file lives inside the ``done`` array's folder, which readers ignore.)

The ``done`` array's metadata is the last file a store's creation writes, so it doubles as the mark
that creation finished (`Manifest.initialised`): a store without it was left by an init that failed
or was killed, holds no scores, and is created again by the next run. Every store written so far has
it, so the mark needs no change of format.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import zarr

from ..errors import StoreError
from .location import locate
from .tile import Tile

GROUP = "_tiles"


def unfinished(root: Any) -> StoreError:
    """The error for a store whose creation did not complete (an init that failed, was killed or still runs)."""
    return StoreError(f"store {root} is unfinished: its creation did not complete (an init that failed, was "
                      "killed or is still running); re-run the command that made it, same --out, to create it")


class Manifest:
    """Tile list and done flags of the store at ``root``."""

    def __init__(self, root: str | Path):
        self.location = locate(root)  # reads work by URL too (export of a published store)
        self.root = self.location.path if self.location.path is not None else self.location

    @staticmethod
    def lock_path(root: Path) -> Path:
        return Path(root) / GROUP / "done" / "lock.json"

    @staticmethod
    def initialised(root: Path) -> bool:
        """Whether the store at ``root`` was created to the end (its ``done`` array exists)."""
        return locate(root).has_node(f"{GROUP}/done")

    @classmethod
    def creation_unfinished(cls, root: Path) -> bool:
        """Whether a run began creating the store at ``root`` and did not finish: the run's lock made
        ``_tiles`` first, the ``done`` array is missing. (Metadata-only stores made without a run, as
        the query benchmark makes them, have no ``_tiles`` and stay readable.)"""
        return (Path(root) / GROUP).is_dir() and not cls.initialised(root)

    def write_tiles(self, tiles: list[Tile]) -> None:
        """Write the tile list, then the ``done`` flags: call last when creating a store (they mark it whole)."""
        group = zarr.create_group(str(self.root), path=GROUP, zarr_format=3, overwrite=False,
                                  attributes={"tiles": [_json_types(t.to_dict()) for t in tiles], "description":
                                              "work units of this store; done[i] = 1 once tile i is written"})
        group.create_array("done", shape=(max(len(tiles), 1),), chunks=(1,), dtype="uint8", fill_value=0,
                           compressors=None, dimension_names=("tile",))

    def _require_initialised(self) -> None:
        if not self.initialised(self.root):
            raise unfinished(self.root)

    @cached_property
    def _tiles(self) -> list[Tile]:
        self._require_initialised()
        group = zarr.open_group(self.location.zarr_store(), path=GROUP, mode="r", zarr_format=3)
        return [Tile.from_dict(d) for d in group.attrs["tiles"]]

    def tiles(self) -> list[Tile]:
        return list(self._tiles)

    def _done(self, mode: str = "r") -> zarr.Array:
        self._require_initialised()
        return zarr.open_array(self.location.zarr_store(), path=f"{GROUP}/done", mode=mode, zarr_format=3)

    def mark_done(self, tile_id: str) -> None:
        index = next(n for n, t in enumerate(self._tiles) if t.id == tile_id)
        self._done("r+")[index] = 1

    def done_ids(self) -> set[str]:
        flags = self._done()[:]
        return {t.id for t, flag in zip(self._tiles, flags) if flag}

    def status(self) -> dict:
        """Counts for operators: tiles and bases, total and done, and the missing tile ids."""
        tiles = self._tiles
        flags = np.asarray(self._done()[: len(tiles)]) if tiles else np.zeros(0)
        return {
            "tiles_total": len(tiles),
            "tiles_done": int(flags.sum()),
            "bases_total": sum(t.bases for t in tiles),
            "bases_done": sum(t.bases for t, f in zip(tiles, flags) if f),
            "missing": [t.id for t, f in zip(tiles, flags) if not f],
        }


def _json_types(value: Any) -> Any:
    """``value`` with numpy integers made plain ints, which JSON (Zarr attributes) can hold. Planners
    hand over plain ints; this keeps a slip from failing a store's creation halfway."""
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (list, tuple)):
        return [_json_types(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_types(v) for k, v in value.items()}
    return value
