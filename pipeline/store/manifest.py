"""The tile list of a store and its done markers.

``_tiles/tiles.json`` lists every tile; ``_tiles/done/<tile id>.json`` is written (atomically, by
rename) only after the tile's data is written and flushed, so a marker always means durable data.
A run resumes by skipping tiles that have a marker.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from ..tiling import Tile


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, prefix=".tmp.") as tmp:
        tmp.write(text)
        tmp.flush()
        os.fsync(tmp.fileno())
    os.replace(tmp.name, path)


class Manifest:
    """Tile list and done markers of the store at ``root``."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.dir = self.root / "_tiles"

    def write_tiles(self, tiles: list[Tile]) -> None:
        _atomic_write(self.dir / "tiles.json", json.dumps([t.to_dict() for t in tiles]))

    def tiles(self) -> list[Tile]:
        return [Tile.from_dict(d) for d in json.loads((self.dir / "tiles.json").read_text())]

    def _marker(self, tile_id: str) -> Path:
        return self.dir / "done" / f"{tile_id.replace(':', '_')}.json"

    def mark_done(self, tile_id: str, summary: dict) -> None:
        _atomic_write(self._marker(tile_id), json.dumps(summary))

    def is_done(self, tile_id: str) -> bool:
        return self._marker(tile_id).is_file()

    def done_ids(self) -> set[str]:
        done = self.dir / "done"
        if not done.is_dir():
            return set()
        return {json.loads(p.read_text())["tile"] for p in done.glob("*.json")}

    def status(self) -> dict:
        """Counts for operators: tiles and bases, total and done."""
        tiles = self.tiles()
        done = self.done_ids()
        return {
            "tiles_total": len(tiles),
            "tiles_done": sum(t.id in done for t in tiles),
            "bases_total": sum(t.bases for t in tiles),
            "bases_done": sum(t.bases for t in tiles if t.id in done),
            "missing": [t.id for t in tiles if t.id not in done],
        }
