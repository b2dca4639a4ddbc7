"""`Job`: what every tile task of a store needs to rebuild its tools, kept in the store's attributes.

A tile task receives only the store path, a tile and the job, so it runs the same inline, on a Dask
worker or in a SLURM array task (which reads the job from the store). ``task`` names the function
(``module:function``) that scores one tile of this store's product; the driver runs any of them.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..genome.fasta import Reference
from ..model.spec import ModelSpec
from ..store.tile import Tile

TileTask = Callable[[Path, Tile, "Job"], dict[str, Any]]


@dataclass(frozen=True)
class Job:
    task: str  # "package.module:function" scoring one tile: (store, tile, job) -> summary
    model: ModelSpec
    fasta: str  # absolute path
    options: dict[str, Any] = field(default_factory=dict)  # the product's own settings

    def to_attrs(self) -> dict[str, Any]:
        return {"task": self.task, "model": self.model.to_attrs(), "fasta": self.fasta, "options": self.options}

    @classmethod
    def from_attrs(cls, attrs: dict[str, Any]) -> Job:
        return cls(attrs["task"], ModelSpec.from_attrs(attrs["model"]), attrs["fasta"], dict(attrs["options"]))

    def with_threads(self, threads: int | None) -> Job:
        return dataclasses.replace(self, model=self.model.with_threads(threads))

    def tile_task(self) -> TileTask:
        module, name = self.task.split(":")
        return getattr(importlib.import_module(module), name)


@lru_cache(maxsize=4)
def cached_reference(path: str) -> Reference:
    """This process's handle on a FASTA (opened once)."""
    return Reference(path)
