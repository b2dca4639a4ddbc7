"""Running tile tasks on a Dask cluster: the ensemble is loaded once per worker, results stream back."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from distributed import as_completed
from distributed.diagnostics.plugin import WorkerPlugin

from ..model.spec import ModelSpec
from ..store.tile import Tile
from .cluster import make_client
from .job import Job
from .task import run_tile


class EnsemblePlugin(WorkerPlugin):
    """Loads the ensemble when a Dask worker starts, so its first tile does not pay for it."""

    name = "pangolin-ensemble"

    def __init__(self, model: ModelSpec):
        self.model = model

    def setup(self, worker) -> None:
        self.model.load()


def run_tiles_on_dask(store: str, tiles: list[Tile], job: Job, cluster: str, workers: int,
                      options: dict[str, Any], on_start: Callable[[str], None] | None = None
                      ) -> Iterator[dict[str, Any]]:
    """Submit every tile (in the given order of priority) and yield summaries as tiles finish."""
    with make_client(cluster, workers, options) as client:
        if on_start:
            on_start(client.dashboard_link)
        client.register_plugin(EnsemblePlugin(job.model))
        resources = {"GPU": 1} if cluster == "cuda" else None
        attrs = job.to_attrs()
        futures = [client.submit(run_tile, store, t.to_dict(), attrs, key=f"tile-{t.id}", pure=False, retries=2,
                                 priority=len(tiles) - n, resources=resources) for n, t in enumerate(tiles)]
        for future in as_completed(futures):
            yield future.result()
