"""The whole precompute: plan, create or resume the store, score pending tiles, report.

Tiles run inline (``cluster="none"``) or as Dask tasks; both call `tile_task.score_tile`.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..config import RunConfig
from ..errors import StoreError
from ..store.consolidated import consolidate
from ..store.layout import create_store, identity_difference, read_identity
from ..store.lock import StoreLock
from ..store.manifest import Manifest
from ..store.tile import Tile
from .cluster import default_threads, make_client
from .plan import Plan, plan_run
from .task import EnsemblePlugin, score_tile

Progress = Callable[[dict[str, Any]], None]


def check_target(out: Path) -> None:
    """Refuse to write into an existing directory that is not a store of ours."""
    if out.exists() and not out.is_dir():
        raise StoreError(f"--out {out} is a file, not a store directory")
    if out.is_dir() and not (out / "zarr.json").exists() and any(p.name != "_tiles" for p in out.iterdir()):
        raise StoreError(f"--out {out} exists and is not a Pangolin store; choose a new path")
    if (out / "zarr.json").exists():
        read_identity(out)


def clear_store(out: Path) -> None:
    """Remove a store's contents except the lock held by this run."""
    lock = Manifest.lock_path(out)
    for path in sorted(out.rglob("*"), key=lambda p: -len(p.parts)):
        if path == lock or path in lock.parents:
            continue
        path.rmdir() if path.is_dir() else path.unlink()


def prepare_store(plan: Plan, out: Path, overwrite: bool = False) -> Manifest:
    """Create the store, or check an existing one was made with the same settings (resume)."""
    if overwrite:
        clear_store(out)
    if (out / "zarr.json").exists():
        stored = read_identity(out)
        difference = identity_difference(stored, plan.identity)
        if difference:
            raise StoreError(
                f"store {out} was made with other settings ({difference}); use --overwrite to replace it "
                "or --out for a new store"
            )
        manifest = Manifest(out)
        if [t.id for t in manifest.tiles()] != [t.id for t in plan.tiles]:
            raise StoreError(f"store {out} lists other tiles than this run plans; use --overwrite")
        return manifest
    create_store(out, plan.identity, plan.genes, plan.lengths, plan.recipe)
    manifest = Manifest(out)
    manifest.write_tiles(plan.tiles)
    return manifest


def execute(tiles: list[Tile], store: Path, recipe: dict[str, Any], config: RunConfig,
            on_done: Progress | None = None, on_start: Callable[[str], None] | None = None) -> list[dict]:
    """Score ``tiles`` (largest first) inline or on a Dask cluster; return their summaries."""
    ordered = sorted(tiles, key=lambda t: -t.bases)
    summaries: list[dict] = []
    if config.cluster == "none":
        recipe = {**recipe, "threads": recipe.get("threads") or default_threads(1)}
        for tile in ordered:
            summaries.append(score_tile(str(store), tile, recipe))
            if on_done:
                on_done(summaries[-1])
        return summaries
    from distributed import as_completed

    workers = config.workers or 1
    recipe = {**recipe, "threads": recipe.get("threads") or default_threads(workers)}
    with make_client(config.cluster, workers, config.cluster_options) as client:
        if on_start:
            on_start(client.dashboard_link)
        client.register_plugin(EnsemblePlugin(recipe))
        resources = {"GPU": 1} if config.cluster == "cuda" else None
        futures = [
            client.submit(score_tile, str(store), t.to_dict(), recipe, key=f"tile-{t.id}", pure=False,
                          retries=2, priority=len(ordered) - n, resources=resources)
            for n, t in enumerate(ordered)
        ]
        for future in as_completed(futures):
            summaries.append(future.result())
            if on_done:
                on_done(summaries[-1])
    return summaries


def init(config: RunConfig, overwrite: bool = False) -> dict:
    """Create (or check) the store and its tile list without scoring anything; return its status."""
    plan = plan_run(config)
    out = Path(config.out)
    check_target(out)
    with StoreLock(out):
        return prepare_store(plan, out, overwrite).status()


def run_part(store: Path, part: int, parts: int, threads: int | None = None) -> list[dict]:
    """Score this part's share (every ``parts``-th tile, from ``part``, 0-based) of a store's
    pending tiles, inline: the body of one SLURM array task. Tasks own disjoint tiles."""
    if not 0 <= part < parts:
        raise StoreError(f"part must be in 0..{parts - 1} (or 1..{parts} with --one-based), got {part}")
    recipe = dict(read_identity(store)["recipe"])
    recipe["threads"] = threads or recipe.get("threads") or default_threads(1)
    manifest = Manifest(store)
    done = manifest.done_ids()
    mine = [t for n, t in enumerate(manifest.tiles()) if n % parts == part and t.id not in done]
    return [score_tile(str(store), tile, recipe) for tile in mine]


def run(config: RunConfig, overwrite: bool = False, on_done: Progress | None = None,
        on_start: Callable[[str], None] | None = None,
        on_plan: Callable[[list[Tile], dict], None] | None = None) -> dict:
    """Run (or resume) a precompute; return the store's status with throughput figures."""
    plan = plan_run(config)
    out = Path(config.out)
    check_target(out)
    with StoreLock(out):
        manifest = prepare_store(plan, out, overwrite)
        done = manifest.done_ids()
        pending = [t for t in plan.tiles if t.id not in done]
        if on_plan:
            on_plan(pending, manifest.status())
        started = time.perf_counter()
        summaries = execute(pending, out, plan.recipe, config, on_done, on_start)
        elapsed = time.perf_counter() - started
        consolidate(out)  # metadata is final now: readers open it from one file, quietly
    ambiguous = sum(s["ambiguous"] for s in summaries)
    if ambiguous:
        warnings.warn(f"{ambiguous:,} IUPAC or other non-ACGTN symbols in the sequence were read as N", stacklevel=2)
    status = manifest.status()
    bases = sum(s["bases"] for s in summaries)
    status.update(tiles_run=len(summaries), bases_run=bases, seconds=round(elapsed, 2),
                  bases_per_second=round(bases / elapsed, 1) if elapsed > 0 and bases else None)
    return status
