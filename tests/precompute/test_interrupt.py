"""Ctrl-C during a precompute ends with one line: how many tiles are done and that running the same
command again resumes; on a Dask cluster the tiles are cancelled and the cluster closed quietly."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.errors import Interrupted
from pipeline.precompute.cluster import workers_ignore_ctrl_c
from pipeline.store.lock import StoreLock
from pipeline.store.manifest import Manifest
from pipeline.tracks.plan import run_tracks as run

from ..conftest import run_cli, two_gene_config

MESSAGE = r"^{done} of (\d+) tiles done in {out}; run the same command again to resume$"


def interrupt_after(n: int):
    """An ``on_done`` callback that is interrupted (as by Ctrl-C) once ``n`` tiles are done."""
    seen = []

    def on_done(summary: dict) -> None:
        seen.append(summary)
        if len(seen) == n:
            raise KeyboardInterrupt

    return on_done


def test_inline_interrupt_says_how_far_and_unlocks_the_store(tmp_path):
    config = two_gene_config(tmp_path / "s.zarr")
    with pytest.raises(Interrupted, match=MESSAGE.format(done=1, out=config.out)) as stopped:
        run(config, on_done=interrupt_after(1))
    assert stopped.value.__cause__ is None and stopped.value.__suppress_context__
    with StoreLock(Path(config.out)):  # unlocked for the next run, which resumes (test_faults.py)
        assert Manifest(Path(config.out)).status()["tiles_done"] == 1


def test_local_cluster_interrupt_cancels_and_closes_quietly(tmp_path, caplog):
    config = two_gene_config(tmp_path / "d.zarr", cluster="local", workers=1)  # the worker runs in this process
    with caplog.at_level(logging.WARNING):
        with pytest.raises(Interrupted, match=MESSAGE.format(done=r"\d+", out=config.out)) as stopped:
            run(config, on_done=interrupt_after(1))
    assert not [r.getMessage() for r in caplog.records if r.name.startswith("distributed")]
    assert logging.root.manager.disable == logging.NOTSET  # logging is back once the cluster is closed
    done, total = (int(n) for n in str(stopped.value).split(" tiles")[0].split(" of "))
    assert 1 <= done < total


def test_cli_prints_one_aborted_line(tmp_path, monkeypatch, capsys):
    from ..conftest import DATA, TWO_GENES, WEIGHTS

    monkeypatch.setattr("pipeline.progress.RunProgress.advance", lambda self, summary: interrupt_after(1)(summary))
    out = tmp_path / "c.zarr"
    code, _, err = run_cli(monkeypatch, capsys, "run", "--fasta", DATA / "grch38-chr22" / "chr22.fa.gz",
                           "--annotation", TWO_GENES, "--out", out, "--weights", WEIGHTS, "--tile-size", 1024,
                           "--chunk-size", 256, "--cluster", "none", "--quiet")
    assert code == 130
    assert err.splitlines()[-1].startswith("aborted: 1 of ") and err.splitlines()[-1].endswith(
        f" tiles done in {out}; run the same command again to resume")


def test_local_workers_start_ignoring_ctrl_c():
    """Worker processes would each print a KeyboardInterrupt traceback on the terminal's Ctrl-C."""
    probe = [sys.executable, "-c", "import signal; print(signal.getsignal(signal.SIGINT) is signal.SIG_IGN)"]
    # from Python's own handler: a shell starts background jobs (`pytest &`) with SIGINT ignored
    outer = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with workers_ignore_ctrl_c():
            assert subprocess.run(probe, capture_output=True, text=True, check=True).stdout.strip() == "True"
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        assert subprocess.run(probe, capture_output=True, text=True, check=True).stdout.strip() == "False"
    finally:
        signal.signal(signal.SIGINT, outer)
