"""What every product's plan is made of: the `Plan` the driver runs, the model of a run config, and the
identity fields every product's store shares (ensemble, checkpoints, reference, annotation)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import RunConfig
from ..genome.digest import sha256_file
from ..genome.fasta import Reference
from ..model.spec import ModelSpec
from ..store.identity import FORMAT_VERSION, StoreIdentity
from ..store.tile import Tile
from .job import Job


@dataclass
class Plan:
    """A store to make: what identifies it, its tiles, what each tile task needs, and how to create it."""

    identity: StoreIdentity
    tiles: list[Tile]
    job: Job
    create: Callable[[Path], None]  # writes the empty store (groups, arrays, root attributes)
    details: dict[str, Any] = field(default_factory=dict)  # product facts for reports (e.g. genes, SNVs)


def model_spec(config: RunConfig) -> ModelSpec:
    """The run's ensemble, with weights resolved in the documented order (flag, environment, config file)."""
    return ModelSpec.resolve(config.weights_flag, config.weights, ensemble=config.ensemble, engine=config.engine,
                             dtype=config.dtype, device=config.device, memory_gb=config.memory_gb,
                             threads=config.threads_per_worker, kernel=config.kernel)


def input_identity(config: RunConfig, reference: Reference, model: ModelSpec) -> dict[str, Any]:
    """Identity fields shared by every product: ensemble, checkpoints, reference, annotation."""
    return {"format_version": FORMAT_VERSION, "ensemble": model.ensemble, "compute_dtype": model.dtype,
            "checkpoints": model.checksums(), "reference": {"digest": reference.digest(), "contigs": reference.lengths},
            "annotation": {"digest": sha256_file(config.annotation),
                           "filters": {"gene_types": list(config.gene_types), "tags": list(config.tags),
                                       "chroms": list(config.chroms), "margin": config.margin}}}
