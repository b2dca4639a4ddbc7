"""Dask clients from config: local processes, one worker per GPU, SLURM jobs, or a running scheduler.

Cluster options from the config (``cluster_options``) are passed to the cluster class unchanged.
"""

from __future__ import annotations

import logging
import signal
import threading
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING, Any, Iterator

from ..errors import ConfigError

if TYPE_CHECKING:
    from distributed import Client

log = logging.getLogger(__name__)
CLUSTERS = ("local", "cuda", "slurm", "none")


def describe_clusters() -> str:
    return f"{', '.join(CLUSTERS)} or tcp://HOST:PORT"


@contextmanager
def make_client(kind: str, workers: int | None = None, options: dict[str, Any] | None = None) -> Iterator[Client]:
    """A connected Dask client; the cluster it started (if any) is closed on exit."""
    from distributed import Client, LocalCluster  # here, so inline and array runs never load Dask

    options = dict(options or {})
    if kind.startswith(("tcp://", "tls://", "ucx://")):
        with Client(kind) as client:
            yield client
        return
    if kind == "local":
        # One worker runs in this process: measured here, torch in a spawned worker process ran
        # 40-50% slower than in-process (2,500 vs 4,900-5,200 nt/s on 2 cores), mostly page faults
        # under the nanny's MALLOC_TRIM_THRESHOLD_, which load_ensemble now overrides (allocator.py).
        processes = options.pop("processes", (workers or 1) > 1)
        with workers_ignore_ctrl_c() if processes else nullcontext():
            cluster = LocalCluster(n_workers=workers or 1, threads_per_worker=1, processes=processes,
                                   dashboard_address=options.pop("dashboard_address", ":0"), **options)
    elif kind == "cuda":
        try:
            from dask_cuda import LocalCUDACluster
        except ImportError:
            raise ConfigError("cluster 'cuda' needs dask-cuda: pip install 'pangolin-pipeline[cuda]'") from None
        with workers_ignore_ctrl_c():
            cluster = LocalCUDACluster(threads_per_worker=1, resources={"GPU": 1}, **options)
    elif kind == "slurm":
        try:
            from dask_jobqueue import SLURMCluster
        except ImportError:
            raise ConfigError("cluster 'slurm' needs dask-jobqueue: pip install 'pangolin-pipeline[slurm]'") from None
        adapt = options.pop("adapt", None)
        cluster = SLURMCluster(**options)
        if adapt:
            cluster.adapt(**adapt)
        else:
            cluster.scale(jobs=workers or 1)
    else:
        raise ConfigError(f"cluster must be {describe_clusters()}; got {kind!r}")
    with cluster, Client(cluster) as client, replacing_lost_jobs(cluster) if kind == "slurm" else nullcontext():
        yield client


@contextmanager
def workers_ignore_ctrl_c() -> Iterator[None]:
    """Worker processes started inside this context ignore SIGINT.

    Ctrl-C in a terminal reaches every process of the foreground group: local workers would each
    print a KeyboardInterrupt traceback while the driver cancels their tiles and closes them. An
    ignored signal stays ignored across the spawn's exec, and Python then installs no handler of its
    own. This process ignores Ctrl-C only while the workers start (seconds); off the main thread,
    where signals cannot be set, nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def replacing_lost_jobs(cluster, interval: float = 5.0) -> Iterator[None]:
    """Resubmit worker jobs that ended early (preempted, cancelled, out of walltime).

    dask-jobqueue forgets a lost job but keeps it in its target, and submits again only on the next
    ``scale``; without this a run whose jobs all died would wait forever. The scheduler reruns the
    lost jobs' tiles on the remaining or new workers.
    """
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(interval):
            lost = len(cluster.worker_spec) - len(cluster.workers)
            if lost > 0:
                log.warning("%d worker job(s) ended early; submitting replacements", lost)
                cluster.scale(jobs=len(cluster.worker_spec))

    watcher = threading.Thread(target=watch, name="replace-lost-jobs", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        stop.set()
        watcher.join()
