"""Running tile tasks on a Dask cluster: the ensemble is loaded once per worker, results stream back."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from distributed import as_completed
from distributed.diagnostics.plugin import WorkerPlugin

from ..model.spec import ModelSpec
from ..store.tile import Tile
from .cluster import make_client
from .job import Job
from .task import run_tile


class CancelledTilesFilter(logging.Filter):
    """Drops a closing worker's "Async instruction ... ended with CancelledError": its tiles were
    cancelled on purpose (Ctrl-C in the driver) and will run again on resume."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "ended with CancelledError" not in record.getMessage()


class EnsemblePlugin(WorkerPlugin):
    """Loads the ensemble when a Dask worker starts, so its first tile does not pay for it; quiets the
    worker's shutdown after an interruption (`CancelledTilesFilter`, in each worker's own process)."""

    name = "pangolin-ensemble"

    def __init__(self, model: ModelSpec):
        self.model = model

    def setup(self, worker) -> None:
        state_log = logging.getLogger("distributed.worker.state_machine")
        if not any(isinstance(f, CancelledTilesFilter) for f in state_log.filters):
            state_log.addFilter(CancelledTilesFilter())
        self.model.load()


class QuietShutdown:
    """Once armed, silences logging until the context ends: tiles cancelled on purpose (Ctrl-C, an
    error elsewhere) make Dask's closing workers log warnings ("... ended with CancelledError") that
    say nothing to the user, after or over the one line that does."""

    def __init__(self) -> None:
        self.previous: int | None = None

    def arm(self) -> None:
        if self.previous is None:
            self.previous = logging.root.manager.disable
            logging.disable(logging.CRITICAL)

    def __enter__(self) -> QuietShutdown:
        return self

    def __exit__(self, *exc) -> None:
        if self.previous is not None:
            logging.disable(self.previous)
            self.previous = None


def run_tiles_on_dask(store: str, tiles: list[Tile], job: Job, cluster: str, workers: int,
                      options: dict[str, Any], on_start: Callable[[str], None] | None = None
                      ) -> Iterator[dict[str, Any]]:
    """Submit every tile (in the given order of priority) and yield summaries as tiles finish.

    Stopped early (Ctrl-C, an error, or the caller closing this generator), it cancels the tiles not
    done and closes the cluster quietly before the exception goes on.
    """
    with QuietShutdown() as quiet, make_client(cluster, workers, options) as client:
        if on_start:
            on_start(client.dashboard_link)
        client.register_plugin(EnsemblePlugin(job.model))
        resources = {"GPU": 1} if cluster == "cuda" else None
        futures = [client.submit(run_tile, store, t, job, key=f"tile-{t.id}", pure=False, retries=2,
                                 priority=len(tiles) - n, resources=resources) for n, t in enumerate(tiles)]
        try:
            for future in as_completed(futures):
                yield future.result()
        except BaseException:  # also GeneratorExit: the caller stopped (its callback was interrupted)
            quiet.arm()
            _cancel([f for f in futures if not f.done()], client)
            raise


def _cancel(futures: list, client) -> None:
    """Stop scheduling ``futures`` (best effort: the cluster is closed next anyway)."""
    if futures:
        try:
            client.cancel(futures)
        except Exception:  # a scheduler already gone has nothing left to cancel
            pass
