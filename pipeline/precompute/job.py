"""`Job`: what every tile task of a store needs to rebuild its tools, kept in the store's attributes.

A tile task receives only the store path, a tile and the job, so it runs the same inline, on a Dask
worker or in a SLURM array task (which reads the job from the store). A product gives its task by
reference: a frozen dataclass holding the product's typed options whose call scores one tile
(`TileTask`). The store records the task's class and options, so an array task rebuilds the same
object from the store path alone.
"""

from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from ..genome.fasta import Reference
from ..model.spec import ModelSpec
from ..store.tile import Tile

# Stores made before tasks were classes name a function; the classes that replaced them.
_RENAMED = {"pipeline.precompute.task:score_track_tile": "pipeline.tracks.task:TrackTile",
            "pipeline.snvs.task:score_snv_tile": "pipeline.snvs.task:SnvTile"}


class TileTask(Protocol):
    """A product's tile task: its options as dataclass fields; called, it scores one tile into the store."""

    def __call__(self, store: Path, tile: Tile, job: Job) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Job:
    task: TileTask  # a frozen dataclass instance: the product's options, and the code scoring a tile
    model: ModelSpec
    fasta: str  # absolute path

    def to_attrs(self) -> dict[str, Any]:
        kind = type(self.task)
        return {"task": f"{kind.__module__}:{kind.__qualname__}", "options": dataclasses.asdict(self.task),
                "model": self.model.to_attrs(), "fasta": self.fasta}

    @classmethod
    def from_attrs(cls, attrs: dict[str, Any]) -> Job:
        module, name = _RENAMED.get(attrs["task"], attrs["task"]).split(":")
        task_class = getattr(importlib.import_module(module), name)
        names = {f.name for f in dataclasses.fields(task_class)}
        task = task_class(**{k: v for k, v in attrs["options"].items() if k in names})
        return cls(task, ModelSpec.from_attrs(attrs["model"]), attrs["fasta"])

    def with_threads(self, threads: int | None) -> Job:
        return dataclasses.replace(self, model=self.model.with_threads(threads))


@lru_cache(maxsize=4)
def cached_reference(path: str) -> Reference:
    """This process's handle on a FASTA (opened once)."""
    return Reference(path)
