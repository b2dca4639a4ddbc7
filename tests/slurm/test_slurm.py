"""On a real single-node SLURM: Dask SLURMCluster runs and array jobs equal a local run bit for bit."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import dask
import distributed  # noqa: F401  (registers its config defaults before dask.config.set below removes new keys)
import numpy as np
import pytest
import zarr

from pipeline.tracks.plan import init_tracks as init
from pipeline.tracks.plan import run_tracks as run

from ..conftest import REPO, two_gene_config

pytestmark = [pytest.mark.slurm, pytest.mark.slow]
BIN = Path(sys.executable).parent


def config(out: Path, **overrides):
    # One torch thread everywhere: stores are bit-identical only at equal thread counts.
    return two_gene_config(out, threads_per_worker=1, **{"cluster": "local", **overrides})


def arrays(out: Path) -> list[np.ndarray]:
    return [zarr.open_array(str(out), path=f"chr22/{name}")[:, 32048000:32154000] for name in ("p_splice", "usage")]


def assert_same_store(a: Path, b: Path) -> None:
    for x, y in zip(arrays(a), arrays(b), strict=True):
        assert np.array_equal(x, y, equal_nan=True)


def jobs_named(name: str) -> list[str]:
    """Ids of every job with this name that SLURM still remembers (running or ended)."""
    out = subprocess.run(["squeue", "-h", "-t", "all", "-n", name, "-o", "%i"], capture_output=True, text=True,
                         check=True).stdout
    return out.split()


def wait_for_job(job_id: str, timeout: float = 600) -> list[str]:
    """Final states of a job's tasks (polled: ``sbatch --wait`` backs off to 30 s between polls)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = subprocess.run(["squeue", "-h", "-t", "all", "-j", job_id, "-o", "%T"], capture_output=True,
                                text=True, check=True).stdout.split()
        if states and not {"PENDING", "CONFIGURING", "RUNNING", "COMPLETING"} & set(states):
            return states
        time.sleep(0.5)
    pytest.fail(f"job {job_id} still running after {timeout:.0f} s")


@pytest.fixture(scope="module")
def local_store(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("local") / "local.zarr"
    run(config(out, cluster="none"))
    return out


def test_slurm_cluster_survives_preempted_workers(slurm, local_store, tmp_path):
    """Both worker jobs are cancelled after the first tile; replacements finish the store."""
    out = tmp_path / "slurm.zarr"
    name = f"pangolin-test-{os.getpid()}"
    options = {"queue": "debug", "cores": 1, "processes": 1, "memory": "3GB", "walltime": "00:20:00",
               "job_name": name, "log_directory": str(tmp_path / "logs")}
    cancelled: list[str] = []

    def preempt_once(summary: dict) -> None:
        if not cancelled:
            cancelled.extend(jobs_named(name))
            subprocess.run(["scancel", *cancelled], check=True)

    with dask.config.set({"distributed.deploy.lost-worker-timeout": "1s"}):
        status = run(config(out, cluster="slurm", workers=2, cluster_options=options), on_done=preempt_once)
    assert status["tiles_done"] == status["tiles_total"] == 7
    assert len(cancelled) == 2
    assert len(set(jobs_named(name)) - set(cancelled)) >= 1  # replacements were submitted
    assert_same_store(out, local_store)


def test_array_job_workflow(slurm, local_store, tmp_path):
    out = tmp_path / "array.zarr"
    init(config(out))
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"}
    script = REPO / "workflows" / "array_tiles.sh"
    job = subprocess.run(["sbatch", "--parsable", "--array=1-2", "--cpus-per-task=1", "--mem=3G",
                          f"--output={tmp_path}/array-%a.log", str(script), str(out), "2"],
                         env=env, capture_output=True, text=True, check=True).stdout.strip()
    states = wait_for_job(job)
    logs = "".join(p.read_text() for p in tmp_path.glob("array-*.log"))
    assert states == ["COMPLETED", "COMPLETED"], logs
    final = subprocess.run([str(BIN / "pangolin-pipeline"), "finalize", str(out)], capture_output=True, text=True)
    assert final.returncode == 0, final.stderr
    assert_same_store(out, local_store)
