"""The option set shared by `run` and `init`: every `RunConfig` setting, declared once.

A command decorated with `with_run_config` takes all of them and receives the merged `RunConfig`
(config file, then flags) as its ``cfg`` argument. The defaults shown are `RunConfig`'s own (the
config module is torch-free, so `--help` stays fast).
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from typing import Annotated, Callable, Optional

from ..config import RunConfig, load_config
from . import ConfigOpt, Opt, WeightsOpt


def _default(name: str) -> str:
    """`RunConfig`'s default for field ``name``, as --help shows it."""
    value = next(f.default for f in dataclasses.fields(RunConfig) if f.name == name)
    return "all" if value == () else str(value)


def _setting(help: str, name: str | None = None, metavar: str | None = None, *flags: str, default: str | None = None):
    """An option that overrides the config file; --help shows `RunConfig`'s default for field ``name``
    (or ``default`` where the field has none). ``flags``: where the metavar is the name in capitals
    (typer < 0.29 then names the flag after it)."""
    shown = default or (_default(name) if name else None)
    return Opt(*flags, help=help, metavar=metavar, show_default=f"config, else {shown}" if shown else "config")


def _config_options(
    config: ConfigOpt = None,
    fasta: Annotated[Optional[str], _setting("reference FASTA (plain or bgzip)", metavar="FILE")] = None,
    annotation: Annotated[Optional[str], _setting("GTF or GFF3 (optionally gzipped)", metavar="FILE")] = None,
    out: Annotated[Optional[str], _setting("output Zarr store", metavar="DIR")] = None,
    chrom: Annotated[Optional[list[str]], _setting("only these chromosomes (repeatable)", "chroms", "NAME")] = None,
    gene_types: Annotated[Optional[list[str]], _setting("keep these gene types (repeatable)", "gene_types",
                                                        "TYPE")] = None,
    tags: Annotated[Optional[list[str]], _setting("keep genes with a transcript tagged so (repeatable)", "tags",
                                                  "TAG")] = None,
    margin: Annotated[Optional[int], _setting("bases added on each side of every gene", "margin", "N")] = None,
    tile_size: Annotated[Optional[int], _setting("positions per shard (= one tile of work)", "tile_size", "N")] = None,
    chunk_size: Annotated[Optional[int], _setting("positions per chunk inside a shard", "chunk_size", "N")] = None,
    ensemble: Annotated[Optional[str], _setting("official or specialised", "ensemble", "NAME")] = None,
    dtype: Annotated[Optional[str], _setting("compute dtype: float32, bfloat16, float16 (GPU)", "dtype",
                                             "DTYPE", "--dtype")] = None,
    store_dtype: Annotated[Optional[str], _setting("stored dtype: float16 or float32", "store_dtype", "DTYPE")] = None,
    engine: Annotated[Optional[str], _setting("fast or reference", "engine", "NAME")] = None,
    device: Annotated[Optional[str], _setting("cpu, cuda or cuda:N", "device", "DEVICE", "--device")] = None,
    kernel: Annotated[Optional[str], _setting("convolutions: auto (measured per shape on each device), onednn or "
                                              "own (CPU), cudnn or triton (CUDA)", "kernel", "NAME",
                                              "--kernel")] = None,
    workers: Annotated[Optional[int], _setting("Dask workers", None, "N", default="1")] = None,
    head: Annotated[Optional[list[str]], _setting("fine-tuned head (.pt from `finetune`): its outputs become store "
                                                  "variables (repeatable)", None, "FILE", default="none")] = None,
    cluster: Annotated[Optional[str], _setting("local, cuda, slurm, none or tcp://HOST:PORT", "cluster",
                                               "KIND")] = None,
    weights: WeightsOpt = None,
) -> None:
    """Template whose signature is the shared option set (never called)."""


CONFIG_PARAMETERS = list(inspect.signature(_config_options, eval_str=True).parameters.values())


def config_from_options(config, chrom, gene_types, tags, head, **settings):
    """The `RunConfig` of a config file (optional) with the given flags on top."""
    return load_config(config, chroms=tuple(chrom or ()), gene_types=tuple(gene_types or ()), tags=tuple(tags or ()),
                       heads=tuple(head or ()), **settings)


def with_run_config(command: Callable[..., None]) -> Callable[..., None]:
    """Give ``command`` every config option; it is called with ``cfg`` (a `RunConfig`, whose ``out`` is
    checked to be writable) and its own options."""
    scope = {**command.__globals__, "RunConfig": RunConfig}
    own = [p for p in inspect.signature(command, eval_str=True, globals=scope).parameters.values() if p.name != "cfg"]
    names = [p.name for p in CONFIG_PARAMETERS]

    @functools.wraps(command)
    def wrapper(**kwargs) -> None:
        from ..outputs import check_output_dir

        cfg = config_from_options(**{name: kwargs.pop(name) for name in names})
        if cfg.out:  # before planning reads the annotation and hashes the FASTA
            check_output_dir(cfg.out)
        return command(cfg=cfg, **kwargs)

    parameters = CONFIG_PARAMETERS + own
    del wrapper.__wrapped__  # typer must see the merged signature, not the command's
    wrapper.__signature__ = inspect.Signature(parameters)
    wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
    return wrapper

