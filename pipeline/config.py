"""Run configuration: YAML in conf/, loaded into a frozen, validated dataclass.

Command-line flags override the file. Unknown keys and wrong types are refused with the key named.
Relative paths in a config file are relative to the directory the command runs in.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError
from .model.choices import DTYPE_NAMES, ENGINES, ENSEMBLES, KERNELS, check_choice

STORE_DTYPES = ("float16", "float32")


@dataclass(frozen=True)
class RunConfig:
    """Everything a precompute run needs. See conf/example.yaml for a commented example."""

    fasta: str | None = None
    annotation: str | None = None
    out: str | None = None
    weights: str | None = None  # the config file's weights directory
    weights_flag: str | None = None  # --weights: beats $PANGOLIN_WEIGHTS, which beats the config file
    ensemble: str = "official"
    engine: str = "fast"
    dtype: str = "float32"  # compute dtype of the network
    store_dtype: str = "float16"  # dtype of the stored scores
    device: str = "cpu"
    chroms: tuple[str, ...] = ()
    gene_types: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    margin: int = 0
    tile_size: int = 1_048_576  # positions per shard = one tile of work
    chunk_size: int = 65_536  # positions per chunk inside a shard
    workers: int | None = None
    threads_per_worker: int | None = None
    cluster: str = "local"
    cluster_options: dict[str, Any] = field(default_factory=dict)
    memory_gb: float = 2.0
    kernel: str = "auto"  # CPU convolutions: auto (ours per shape where measured faster), onednn, own
    heads: tuple[str, ...] = ()  # fine-tuned head checkpoints: one more store variable per output

    def __post_init__(self) -> None:
        check_choice("ensemble", self.ensemble, ENSEMBLES)
        check_choice("engine", self.engine, ENGINES)
        check_choice("dtype", self.dtype, DTYPE_NAMES)
        check_choice("store_dtype", self.store_dtype, STORE_DTYPES)
        check_choice("kernel", self.kernel, KERNELS)
        if self.tile_size < 1 or self.chunk_size < 1 or self.tile_size % self.chunk_size:
            raise ConfigError(
                f"tile_size ({self.tile_size}) must be a positive multiple of chunk_size ({self.chunk_size})"
            )
        if self.margin < 0:
            raise ConfigError(f"margin must be >= 0, got {self.margin}")
        if self.workers is not None and self.workers < 1:
            raise ConfigError(f"workers must be >= 1, got {self.workers}")

    def require(self, *keys: str) -> None:
        missing = [k for k in keys if getattr(self, k) in (None, "")]
        if missing:
            flags = ", ".join(f"--{k.replace('_', '-')}" for k in missing)
            raise ConfigError(f"missing {', '.join(missing)}: give {flags} or set them in the config file")


def _coerce(key: str, value: Any, annotation: Any) -> Any:
    """Check ``value`` against the field type, accepting a scalar for a tuple and YAML lists."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(annotation)
        if value is None and type(None) in options:
            return None
        annotation = next(a for a in options if a is not type(None))
        origin = typing.get_origin(annotation)
    if origin is tuple:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)) or not all(isinstance(i, str) for i in items):
            raise ConfigError(f"config key {key!r} must be a list of strings, got {value!r}")
        return tuple(items)
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"config key {key!r} must be a mapping, got {value!r}")
        return value
    if annotation is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, annotation) or (annotation is int and isinstance(value, bool)):
        raise ConfigError(f"config key {key!r} must be {annotation.__name__}, got {value!r}")
    return value


def load_config(path: str | Path | None = None, **overrides: Any) -> RunConfig:
    """A `RunConfig` from a YAML file (optional) with non-None ``overrides`` applied on top."""
    values: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist")
        try:
            loaded = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as err:
            raise ConfigError(f"config file {path} is not valid YAML: {str(err).splitlines()[0]}") from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"config file {path} must be a mapping of keys to values")
        values.update(loaded)
    if "weights_flag" in values:
        raise ConfigError("unknown config key 'weights_flag'; the weights directory is the 'weights' key")
    overrides = {("weights_flag" if k == "weights" else k): v for k, v in overrides.items()}
    values.update({k: v for k, v in overrides.items() if v is not None and v != ()})
    fields = {f.name: f for f in dataclasses.fields(RunConfig)}
    hints = typing.get_type_hints(RunConfig)
    for key in list(values):
        if key not in fields:
            raise ConfigError(f"unknown config key {key!r}; known keys: {', '.join(fields)}")
        values[key] = _coerce(key, values[key], hints[key])
    return RunConfig(**values)
