"""The driver: plan in hand, create or resume the store, run pending tiles, report.

Any product (splice tracks, the all-SNV store) is a `Plan`: its store identity, tiles, the `Job`
its tile tasks need and a function that creates its empty store. The driver runs the plan's tiles
inline (``cluster="none"``), on a Dask cluster, or a part of them in an array task (`run_part`).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import RunConfig
from ..errors import Interrupted, StoreError
from ..model.device import check_compute
from ..model.spec import default_threads
from ..store.consolidated import consolidate
from ..store.identity import StoreIdentity, read_identity
from ..store.lock import StoreLock
from ..store.manifest import Manifest
from ..store.tile import Tile
from .job import Job
from .plan import Plan
from .task import run_tile

Progress = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Execution:
    """Where tiles run: ``none`` (this process), ``local``, ``cuda``, ``slurm`` or a scheduler address."""

    cluster: str = "local"
    workers: int | None = None
    options: dict[str, Any] = field(default_factory=dict)


def check_target(out: Path) -> None:
    """Refuse to write into an existing directory that is not a store of ours."""
    if out.exists() and not out.is_dir():
        raise StoreError(f"--out {out} is a file, not a store directory")
    if out.is_dir() and not (out / "zarr.json").exists() and any(p.name != "_tiles" for p in out.iterdir()):
        raise StoreError(f"--out {out} exists and is not a Pangolin store; choose a new path")
    if (out / "zarr.json").exists():
        read_identity(out, unfinished_ok=True)  # ours, so a run may clear and re-create it (prepare_store)


def clear_store(out: Path) -> None:
    """Remove a store's contents except the lock held by this run."""
    lock = Manifest.lock_path(out)
    for path in sorted(out.rglob("*"), key=lambda p: -len(p.parts)):
        if path == lock or path in lock.parents:
            continue
        path.rmdir() if path.is_dir() else path.unlink()


def prepare_store(plan: Plan, out: Path, overwrite: bool = False) -> Manifest:
    """Create the store, or check that an existing one was made with the same settings (resume).

    Creation is all-or-nothing by a mark written last: the tile manifest's ``done`` array
    (`Manifest.initialised`). A store without it was left by an init that failed or was killed; it
    holds no scores, so it is cleared and created again. (Building in a sibling folder and renaming it
    into place would not do: the lock of this run already lives inside ``out``.)
    """
    if overwrite or not Manifest.initialised(out):
        clear_store(out)
    if Manifest.initialised(out):
        difference = StoreIdentity.from_attrs(read_identity(out)).difference(plan.identity)
        if difference:
            raise StoreError(f"store {out} was made with other settings ({difference}); use --overwrite to replace "
                             "it or --out for a new store")
        manifest = Manifest(out)
        if [t.id for t in manifest.tiles()] != [t.id for t in plan.tiles]:
            raise StoreError(f"store {out} lists other tiles than this run plans; use --overwrite")
        return manifest
    plan.create(out)
    manifest = Manifest(out)
    manifest.write_tiles(plan.tiles)  # last: the mark that the store is whole
    return manifest


def execute(tiles: list[Tile], store: Path, job: Job, execution: Execution,
            on_start: Callable[[str], None] | None = None) -> Iterable[dict[str, Any]]:
    """Run ``tiles`` (largest first) inline or on a Dask cluster; yield their summaries as they finish."""
    ordered = sorted(tiles, key=lambda t: -t.bases)
    if execution.cluster == "none":
        job = job.with_threads(job.model.threads or default_threads(1))
        return (run_tile(str(store), tile, job) for tile in ordered)
    from .dask import run_tiles_on_dask  # only Dask runs load distributed

    workers = execution.workers or 1
    job = job.with_threads(job.model.threads or _threads_per_worker(execution))
    return run_tiles_on_dask(str(store), ordered, job, execution.cluster, workers, execution.options, on_start)


def _threads_per_worker(execution: Execution) -> int | None:
    """Torch threads of each worker: this host's cores shared by the workers that run on it (local:
    ``workers``, cuda: one per GPU); None elsewhere, so each SLURM or remote worker uses its own cores."""
    if execution.cluster == "local":
        return default_threads(execution.workers or 1)
    if execution.cluster == "cuda":
        import torch

        return default_threads(max(torch.cuda.device_count(), 1))
    return None


def init_plan(plan: Plan, out: Path, overwrite: bool = False) -> dict:
    """Create (or check) the store and its tile list without scoring anything; return its status."""
    check_target(out)
    with StoreLock(out):
        return prepare_store(plan, out, overwrite).status()


def run_plan(plan: Plan, out: Path, execution: Execution, overwrite: bool = False, on_done: Progress | None = None,
             on_start: Callable[[str], None] | None = None,
             on_plan: Callable[[list[Tile], dict], None] | None = None) -> dict:
    """Run (or resume) a plan; return the store's status with throughput figures."""
    check_target(out)
    if execution.cluster in ("none", "local", "cuda"):  # workers on this machine: refuse now what they would
        check_compute(plan.job.model.dtype, plan.job.model.device)
    summaries: list[dict] = []
    with StoreLock(out):
        manifest = prepare_store(plan, out, overwrite)
        done = manifest.done_ids()
        pending = [t for t in plan.tiles if t.id not in done]
        if on_plan:
            on_plan(pending, manifest.status())
        started = time.perf_counter()
        if pending:  # a finished store starts no cluster
            try:
                # closed here, not when collected: an interrupted Dask run cancels its tiles and closes
                # its cluster before the message below is printed
                with closing(iter(execute(pending, out, plan.job, execution, on_start))) as finished:
                    for summary in finished:
                        summaries.append(summary)
                        if on_done:
                            on_done(summary)
            except KeyboardInterrupt:
                raise Interrupted(interrupted_message(out, manifest.status())) from None
        elapsed = time.perf_counter() - started
        consolidate(out)  # metadata is final now: readers open it from one file, quietly
    ambiguous = sum(s.get("ambiguous", 0) for s in summaries)
    if ambiguous:
        warnings.warn(f"{ambiguous:,} IUPAC or other non-ACGTN symbols in the sequence were read as N", stacklevel=2)
    exceeded = sum(s.get("bound_exceeded", 0) for s in summaries)
    if exceeded:  # snvs/certify.py's audit: the measured bound did not hold on this data
        warnings.warn(f"{exceeded:,} float32 outputs of recomputed SNVs lay outside the half-precision bound: other "
                      "values of this store may differ from float32's; make it again with --dtype float32",
                      stacklevel=2)
    status = manifest.status()
    bases = sum(s["bases"] for s in summaries)
    status.update(tiles_run=len(summaries), bases_run=bases, seconds=round(elapsed, 2))
    if any("recomputed" in s for s in summaries):  # a certified half-precision all-SNV store (snvs/certify.py)
        status.update(snvs_run=sum(s["snvs"] for s in summaries),
                      snvs_recomputed=sum(s["recomputed"] for s in summaries))
    if bases:
        status["bases_per_second"] = round(bases / elapsed, 1)
    return status


def interrupted_message(out: Path, status: dict) -> str:
    """How far an interrupted run got, and how to go on (after the CLI's ``aborted:``)."""
    return (f"{status['tiles_done']} of {status['tiles_total']} tiles done in {out}; "
            "run the same command again to resume")


def run_part(store: Path, part: int, parts: int, threads: int | None = None) -> list[dict]:
    """Score this part's share (every ``parts``-th tile, from ``part``, 0-based) of a store's
    pending tiles, inline: the body of one SLURM array task. Tasks own disjoint tiles."""
    if not 0 <= part < parts:
        raise StoreError(f"part must be in 0..{parts - 1} (or 1..{parts} with --one-based), got {part}")
    job = Job.from_attrs(read_identity(store)["job"])
    job = job.with_threads(threads or job.model.threads or default_threads(1))
    manifest = Manifest(store)
    done = manifest.done_ids()
    mine = [t for n, t in enumerate(manifest.tiles()) if n % parts == part and t.id not in done]
    return [run_tile(str(store), tile, job) for tile in mine]


def execution_of(config: RunConfig) -> Execution:
    return Execution(config.cluster, config.workers, config.cluster_options)
