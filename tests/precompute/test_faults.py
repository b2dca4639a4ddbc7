"""Faults: a killed driver resumes to the same store bit for bit; a second run on a store is refused."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import zarr

from pipeline.errors import StoreLocked
from pipeline.tracks.plan import run_tracks as run

from ..conftest import DATA, REPO, WEIGHTS, two_gene_config

ARGS = ["--fasta", DATA / "grch38-chr22" / "chr22.fa.gz", "--annotation", REPO / "tests" / "data" / "two_genes.gtf",
        "--weights", WEIGHTS, "--tile-size", 1024, "--chunk-size", 256, "--cluster", "none", "--quiet"]


def start_run(out, capture: bool = False) -> subprocess.Popen:
    command = [sys.executable, "-m", "pipeline", "run", "--out", out, *ARGS]
    return subprocess.Popen([str(c) for c in command], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE if capture else subprocess.DEVNULL)


def wait_for(condition, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("timed out waiting for the run")
        time.sleep(0.05)


def flags(out) -> list:
    folder = out / "_tiles" / "done" / "c"
    return list(folder.iterdir()) if folder.is_dir() else []


def arrays(out) -> list[np.ndarray]:
    return [zarr.open_array(str(out), path=f"chr22/{name}")[:, 32048000:32154000] for name in ("p_splice", "usage")]


@pytest.mark.slow
def test_killed_driver_resumes_to_identical_store(tmp_path, small_store):
    out = tmp_path / "killed.zarr"
    process = start_run(out)
    wait_for(lambda: len(flags(out)) >= 2)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert (out / "_tiles" / "done" / "lock.json").exists()  # left behind by the dead run
    total = len(zarr.open_group(str(out), path="_tiles").attrs["tiles"])
    assert 2 <= len(flags(out)) < total
    resumed = start_run(out, capture=True)
    _, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err.decode()
    assert "tiles_run=" in err.decode() and f"tiles_done={total}" in err.decode()
    for mine, uninterrupted in zip(arrays(out), arrays(small_store)):
        assert np.array_equal(mine, uninterrupted, equal_nan=True)


@pytest.mark.slow
def test_second_run_on_same_store_is_refused(tmp_path):
    out = tmp_path / "busy.zarr"
    process = start_run(out)
    try:
        wait_for(lambda: (out / "_tiles" / "done" / "lock.json").exists())
        config = two_gene_config(out)
        with pytest.raises(StoreLocked, match=rf"in use by pid {process.pid} on {os.uname().nodename} since"):
            run(config)
    finally:
        process.kill()
        process.wait()


@pytest.mark.slow
def test_killed_worker_tile_is_rerun_and_store_identical(tmp_path):
    # Compared with an uninterrupted run on the same two 1-thread workers: oneDNN's summation order
    # depends on the thread count, so stores made with other thread counts differ by float rounding.
    import threading

    import psutil

    run(two_gene_config(tmp_path / "uninterrupted.zarr", cluster="local", workers=2))
    out = tmp_path / "worker.zarr"
    config = two_gene_config(out, cluster="local", workers=2)
    result: dict = {}
    thread = threading.Thread(target=lambda: result.update(run(config)))
    thread.start()

    def workers() -> list:
        children = psutil.Process().children(recursive=True)
        return [
            p
            for p in children
            if "spawn_main" in " ".join(p.cmdline()) and "resource_tracker" not in " ".join(p.cmdline())
        ]

    wait_for(lambda: len(flags(out)) >= 1 and len(workers()) == 2, timeout=300)
    victim = max(workers(), key=lambda p: p.cpu_percent(interval=0.2))  # the busier one is mid-tile
    victim.send_signal(signal.SIGKILL)
    thread.join(timeout=600)
    assert result["tiles_done"] == result["tiles_total"]
    for mine, uninterrupted in zip(arrays(out), arrays(tmp_path / "uninterrupted.zarr")):
        assert np.array_equal(mine, uninterrupted, equal_nan=True)
