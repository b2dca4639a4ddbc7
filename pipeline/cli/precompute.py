"""Commands that build and inspect a track store: run, init, run-tiles, finalize, status."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from . import Opt, _say, app
from .options import with_run_config

if TYPE_CHECKING:
    from ..config import RunConfig


@app.command()
@with_run_config
def run(
    cfg: RunConfig,
    overwrite: Annotated[bool, Opt("--overwrite", help="replace a store made with other settings")] = False,
    quiet: Annotated[bool, Opt("--quiet", help="no progress display")] = False,
) -> None:
    """Precompute splice tracks for the genes of an annotation into a Zarr store (resumable)."""
    from ..progress import RunProgress
    from ..store.summary import describe_run
    from ..tracks.plan import run_tracks as run_pipeline

    with RunProgress(enabled=not quiet) as progress:
        status = run_pipeline(cfg, overwrite=overwrite, on_done=progress.advance,
                              on_start=progress.dashboard, on_plan=progress.plan)
    _say(describe_run(cfg.out, status))


@app.command()
@with_run_config
def init(
    cfg: RunConfig,
    overwrite: Annotated[bool, Opt("--overwrite", help="replace a store made with other settings")] = False,
) -> None:
    """Create a store and its tile list for scheduler-free runs (`run-tiles`, then `finalize`)."""
    from ..store.summary import describe_init
    from ..tracks.plan import init_tracks as init_store

    _say(describe_init(cfg.out, init_store(cfg, overwrite)))


@app.command("run-tiles")
def run_tiles(
    store: Annotated[Path, typer.Argument(help="a store made by `init`")],
    part: Annotated[int, Opt(help="which part this task runs (e.g. $SLURM_ARRAY_TASK_ID)")] = 0,
    parts: Annotated[int, Opt(help="how many parts the tiles are split into")] = 1,
    one_based: Annotated[bool, Opt("--one-based", help="--part counts from 1 (SLURM arrays 1-N)")] = False,
    threads: Annotated[Optional[int], Opt(show_default="the store's setting, else all cores",
                                          help="torch threads")] = None,
) -> None:
    """Score one part of a store's pending tiles inline (a SLURM array task)."""
    from ..precompute.driver import run_part
    from ..store.summary import describe_part

    _say(describe_part(part, parts, run_part(store, part - 1 if one_based else part, parts, threads)))


@app.command()
def finalize(store: Annotated[Path, typer.Argument(help="a store made by `init` or `run`")]) -> None:
    """Check every tile is done; list the missing ones and exit 1 if any."""
    from ..store.consolidated import consolidate
    from ..store.identity import read_identity
    from ..store.manifest import Manifest
    from ..store.summary import describe_finalize

    read_identity(store)
    consolidate(store)
    info = Manifest(store).status()
    _say(describe_finalize(info))
    if info["missing"]:
        raise typer.Exit(1)


@app.command()
def status(
    store: Annotated[str, typer.Argument(help="a store made by `run`, `init` or `saturate`: a path or a URL")],
    as_json: Annotated[bool, Opt("--json", help="machine-readable output")] = False,
) -> None:
    """Progress of a store: tiles and bases done out of total."""
    from ..store.identity import read_identity
    from ..store.manifest import Manifest
    from ..store.summary import describe_status

    read_identity(store)
    info = Manifest(store).status()
    typer.echo(json.dumps(info) if as_json else describe_status(info))


