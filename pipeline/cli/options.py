"""The option set shared by `run` and `init`: every `RunConfig` setting, declared once.

A command decorated with `with_run_config` takes all of them and receives the merged `RunConfig`
(config file, then flags) as its ``cfg`` argument. Defaults are written out here so that `--help`
stays fast (importing the config module imports torch); tests/cli checks them against `RunConfig`.
"""

from __future__ import annotations

import functools
import inspect
from typing import Annotated, Callable, Optional

from . import ConfigOpt, Opt, WeightsOpt


def _setting(help: str, default: str | None = None, metavar: str | None = None, *flags: str):
    """An option that overrides the config file; ``default`` is `RunConfig`'s, shown in --help.
    ``flags``: where the metavar is the name in capitals (typer < 0.29 then names the flag after it)."""
    return Opt(*flags, help=help, metavar=metavar, show_default=f"config, else {default}" if default else "config")


def _config_options(
    config: ConfigOpt = None,
    fasta: Annotated[Optional[str], _setting("reference FASTA (plain or bgzip)", metavar="FILE")] = None,
    annotation: Annotated[Optional[str], _setting("GTF or GFF3 (optionally gzipped)", metavar="FILE")] = None,
    out: Annotated[Optional[str], _setting("output Zarr store", metavar="DIR")] = None,
    chrom: Annotated[Optional[list[str]], _setting("only these chromosomes (repeatable)", "all", "NAME")] = None,
    gene_types: Annotated[Optional[list[str]], _setting("keep these gene types (repeatable)", "all", "TYPE")] = None,
    tags: Annotated[Optional[list[str]], _setting("keep genes with a transcript tagged so (repeatable)", "all",
                                                  "TAG")] = None,
    margin: Annotated[Optional[int], _setting("bases added on each side of every gene", "0", "N")] = None,
    tile_size: Annotated[Optional[int], _setting("positions per shard (= one tile of work)", "1048576", "N")] = None,
    chunk_size: Annotated[Optional[int], _setting("positions per chunk inside a shard", "65536", "N")] = None,
    ensemble: Annotated[Optional[str], _setting("official or specialised", "official", "NAME")] = None,
    dtype: Annotated[Optional[str], _setting("compute dtype: float32, bfloat16, float16 (GPU)", "float32",
                                             "DTYPE", "--dtype")] = None,
    store_dtype: Annotated[Optional[str], _setting("stored dtype: float16 or float32", "float16", "DTYPE")] = None,
    engine: Annotated[Optional[str], _setting("fast or reference", "fast", "NAME")] = None,
    device: Annotated[Optional[str], _setting("cpu, cuda or cuda:N", "cpu", "DEVICE", "--device")] = None,
    workers: Annotated[Optional[int], _setting("Dask workers", "1", "N")] = None,
    head: Annotated[Optional[list[str]], _setting("fine-tuned head (.pt from `finetune`): its outputs become store "
                                                  "variables (repeatable)", "none", "FILE")] = None,
    cluster: Annotated[Optional[str], _setting("local, cuda, slurm, none or tcp://HOST:PORT", "local",
                                               "KIND")] = None,
    weights: WeightsOpt = None,
) -> None:
    """Template whose signature is the shared option set (never called)."""


CONFIG_PARAMETERS = list(inspect.signature(_config_options, eval_str=True).parameters.values())


def config_from_options(config, chrom, gene_types, tags, head, **settings):
    """The `RunConfig` of a config file (optional) with the given flags on top."""
    from ..config import load_config

    return load_config(config, chroms=tuple(chrom or ()), gene_types=tuple(gene_types or ()), tags=tuple(tags or ()),
                       heads=tuple(head or ()), **settings)


def with_run_config(command: Callable[..., None]) -> Callable[..., None]:
    """Give ``command`` every config option; it is called with ``cfg`` (a `RunConfig`, whose ``out`` is
    checked to be writable) and its own options."""
    # `cfg: RunConfig` is only a name for type checkers here (importing the config imports torch).
    scope = {**command.__globals__, "RunConfig": object}
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

