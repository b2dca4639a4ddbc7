"""`ModelSpec`: how to load an ensemble, as a small frozen value that travels to workers.

Every command gets its model the same way: its options go to `ModelSpec.resolve` (weights resolved
in the documented order, names checked), then to one cached load per process (`ModelSpec.load`), so
a Dask worker, an array task or the CLI process pays for the checkpoints once.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch

from .checkpoints import resolve_weights, verify_checkpoint
from .choices import DTYPE_NAMES, ENGINES, ENSEMBLES, KERNELS, check_choice
from .config import ModelConfig
from .ensemble import Ensemble, ensemble_members, load_ensemble


@dataclass(frozen=True)
class ModelSpec:
    """An ensemble to load: which checkpoints (``weights``: a resolved directory), engine, dtype and
    device, the activation memory budget, the torch threads of the process that runs it, and the
    convolution kernel (auto; onednn or own on a CPU, cudnn or triton on CUDA)."""

    weights: str
    ensemble: str = "official"
    engine: str = "fast"
    dtype: str = "float32"
    device: str = "cpu"
    memory_gb: float = 2.0
    threads: int | None = None
    kernel: str = "auto"

    def __post_init__(self) -> None:
        for key, allowed in (("ensemble", ENSEMBLES), ("engine", ENGINES), ("dtype", DTYPE_NAMES),
                             ("kernel", KERNELS)):
            check_choice(key, getattr(self, key), allowed)

    @classmethod
    def resolve(cls, weights: str | None = None, configured_weights: str | None = None, *, ensemble: str = "official",
                engine: str = "fast", dtype: str = "float32", device: str = "cpu", memory_gb: float = 2.0,
                threads: int | None = None, kernel: str = "auto") -> ModelSpec:
        """The spec of a command's options: ``weights`` (--weights) beats $PANGOLIN_WEIGHTS, which beats
        ``configured_weights`` (a config file's), which beats the user directory.

        Raises
        ------
        WeightsError
            If no complete set of checkpoints is found where the first of these points.
        ConfigError
            For an unknown ensemble, engine or dtype.
        """
        directory = resolve_weights(weights, configured_weights)
        return cls(str(directory.absolute()), ensemble, engine, dtype, device, memory_gb, threads, kernel)

    def with_threads(self, threads: int | None) -> ModelSpec:
        return dataclasses.replace(self, threads=threads)

    def checksums(self) -> dict[str, str]:
        """SHA-256 of each checkpoint of the ensemble, verified (without loading the networks)."""
        return {m.name: verify_checkpoint(Path(self.weights), m.name)
                for m in ensemble_members(self.ensemble, ModelConfig())}

    def load(self) -> Ensemble:
        """This process's ensemble for the spec (loaded on first use, then cached)."""
        return _load(self)

    def to_attrs(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_attrs(cls, attrs: dict[str, Any]) -> ModelSpec:
        return cls(**attrs)


@lru_cache(maxsize=2)
def _load(spec: ModelSpec) -> Ensemble:
    # No thread count given (a SLURM or tcp:// worker): this process's own cores, not the driver's.
    torch.set_num_threads(spec.threads or default_threads(1))
    return load_ensemble(spec.ensemble, spec.weights, device=spec.device, dtype=spec.dtype, engine=spec.engine,
                         memory_gb=spec.memory_gb, kernel=spec.kernel)


def default_threads(workers: int) -> int:
    """Torch threads per worker so that ``workers`` processes on this host together use each core it
    owns (its CPU affinity: a SLURM allocation or container share, not every core of the node) once."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, cores // max(workers, 1))
