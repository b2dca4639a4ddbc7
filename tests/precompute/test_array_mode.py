"""Scheduler-free mode (SLURM arrays): init, run-tiles per part, finalize; equals a normal run."""

from __future__ import annotations

import numpy as np
import zarr

from pipeline.precompute.driver import run_part
from pipeline.tracks.plan import init_tracks as init

from ..cli.test_bad_input import cli
from ..conftest import two_gene_config


def test_parts_cover_all_tiles_and_equal_a_normal_run(tmp_path, small_store, monkeypatch, capsys):
    out = tmp_path / "array.zarr"
    config = two_gene_config(out)
    status = init(config)
    assert status["tiles_done"] == 0 and status["tiles_total"] > 2
    code, err = cli(monkeypatch, capsys, "finalize", out)
    assert code == 1 and f"{status['tiles_total']} of {status['tiles_total']} tiles missing" in err
    first = run_part(out, 0, 2)
    code, err = cli(monkeypatch, capsys, "run-tiles", out, "--part", 2, "--parts", 2, "--one-based")
    assert code == 0 and "part 2/2" in err
    assert len(first) == (status["tiles_total"] + 1) // 2
    code, err = cli(monkeypatch, capsys, "finalize", out)
    assert code == 0 and "complete" in err
    for name in ("p_splice", "usage"):
        a = zarr.open_array(str(out), path=f"chr22/{name}")[:, 32048000:32154000]
        b = zarr.open_array(str(small_store), path=f"chr22/{name}")[:, 32048000:32154000]
        assert np.array_equal(a, b, equal_nan=True)
    assert run_part(out, 1, 2) == []  # nothing left to do
