"""The stores a server answers from, opened read-only once at start, and their public identity.

Stores are named by their folder name (made unique); requests name stores by that name, never by path.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import StoreError
from ..snvs.reader import SnvReader
from ..tracks.reader import TrackReader
from .builds import infer_build


def weights_digest(checkpoints: dict[str, str]) -> str:
    """One SHA-256 for a set of checkpoints: of the sorted ``name:sha256`` lines."""
    text = "\n".join(f"{name}:{digest}" for name, digest in sorted(checkpoints.items()))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class SnvEntry:
    name: str
    reader: SnvReader
    build: str | None
    distance: int
    mask: bool
    description: dict[str, Any] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # gene id -> name


@dataclass
class TrackEntry:
    name: str
    store: TrackReader
    build: str | None
    description: dict[str, Any] = field(default_factory=dict)


class Catalog:
    """All-SNV stores (answers) and track stores (per-base tracks), each with a unique name."""

    def __init__(self, paths: list[str | Path]):
        self.snv: list[SnvEntry] = []
        self.tracks: list[TrackEntry] = []
        taken: set[str] = set()
        for path in paths:
            name = _unique(Path(path).name, taken)
            try:
                reader = SnvReader(path)
            except StoreError as err:
                if "not an all-SNV store" not in str(err):  # a track store says so; anything else is fatal
                    raise
                self.tracks.append(_track_entry(name, TrackReader(path)))
            else:
                self.snv.append(_snv_entry(name, reader))

    def describe(self) -> list[dict[str, Any]]:
        return [e.description for e in self.snv] + [e.description for e in self.tracks]

    def snv_stores(self, build: str | None, distance: int, mask: bool) -> list[SnvEntry]:
        """Stores whose answers are what computing with these settings gives (build None: any)."""
        return [e for e in self.snv if e.distance == distance and e.mask == mask
                and (build is None or e.build == build)]

    def track_store(self, name: str | None, build: str | None = None) -> list[TrackEntry]:
        """The named track store, or every one of ``build`` (None: any)."""
        if name is not None:
            return [e for e in self.tracks if e.name == name]
        return [e for e in self.tracks if build is None or e.build == build]


def _unique(name: str, taken: set[str]) -> str:
    base, n = name, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    taken.add(name)
    return name


def _snv_entry(name: str, reader: SnvReader) -> SnvEntry:
    identity = reader.identity
    build = infer_build(identity.reference["contigs"])
    settings = reader.settings
    description = {
        "name": name, "kind": "snv", "build": build, "contigs": identity.reference["contigs"],
        "reference_sha256": identity.reference["digest"], "annotation_sha256": identity.annotation["digest"],
        "weights_sha256": weights_digest(identity.checkpoints), "ensemble": identity.ensemble,
        "distance": settings["distance"], "mask": settings["mask"], "mask_tags": list(settings.get("tags", [])),
        "genes": len(reader.genes),
    }
    names = dict(zip(reader.genes.gene_id.astype(str), reader.genes.gene_name.astype(str)))
    return SnvEntry(name, reader, build, int(settings["distance"]), bool(settings["mask"]), description, names)


def _track_entry(name: str, store: TrackReader) -> TrackEntry:
    identity = store.identity
    contigs = {c: store.contigs[c] for c in store.chroms}
    build = infer_build(identity["reference"]["contigs"])
    description = {
        "name": name, "kind": "track", "build": build, "contigs": contigs,
        "reference_sha256": identity["reference"]["digest"], "annotation_sha256": identity["annotation"]["digest"],
        "weights_sha256": weights_digest(identity["checkpoints"]), "ensemble": identity["ensemble"],
        "distance": None, "mask": None, "dtype": identity.get("dtype"), "genes": len(store.genes),
    }
    return TrackEntry(name, store, build, description)
