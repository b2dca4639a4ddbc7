"""Shared fixtures: paths into ../shared, the golden outputs, loaded ensembles (cached per session)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PANGOLIN_SHARED", REPO.parent / "shared"))
WEIGHTS = Path(os.environ.get("PANGOLIN_WEIGHTS", SHARED / "weights" / "pangolin-v2"))
DATA = SHARED / "data"
GOLDEN = SHARED / "golden"
TWO_GENES = REPO / "tests" / "data" / "two_genes.gtf"  # one short chr22 gene per strand


def run_cli(monkeypatch, capsys, *args) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``pangolin-pipeline ARGS`` run in this process."""
    from pipeline.cli import main

    monkeypatch.setattr(sys, "argv", ["pangolin-pipeline", *map(str, args)])
    try:
        main()
        code = 0
    except SystemExit as done:
        code = done.code or 0
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def two_gene_config(out, **overrides):
    """The run config most precompute tests use: two short chr22 genes in 1 kb tiles, inline."""
    from pipeline.config import load_config

    values = dict(fasta=str(DATA / "grch38-chr22" / "chr22.fa.gz"), annotation=str(TWO_GENES), out=str(out),
                  weights=str(WEIGHTS), tile_size=1024, chunk_size=256, cluster="none")
    return load_config(None, **{**values, **overrides})


@pytest.fixture(scope="session")
def weights_dir() -> Path:
    if not WEIGHTS.is_dir():
        pytest.fail(f"weights not found at {WEIGHTS}; set PANGOLIN_WEIGHTS")
    return WEIGHTS


@pytest.fixture(scope="session")
def golden() -> dict[str, dict]:
    """Golden windows by name: seq, strand, outputs (3, 8, 12, 2000) and coordinates if real."""
    archive = np.load(GOLDEN / "official_forward.npz")
    windows: dict[str, dict] = {}
    for key in archive.files:
        name, field = key.split("__")
        value = archive[key]
        windows.setdefault(name, {})[field] = value.tobytes().decode() if field == "seq" else value
    for window in windows.values():
        window["strand"] = str(window["strand"])
    return windows


_ENSEMBLES: dict[tuple, object] = {}


@pytest.fixture(scope="session")
def get_ensemble(weights_dir):
    """Load an ensemble once per session per (name, engine, dtype, window)."""
    from pipeline.model import load_ensemble

    def get(name: str = "official", engine: str = "fast", dtype: str = "float32", **kwargs):
        key = (name, engine, dtype, tuple(sorted(kwargs.items())))
        if key not in _ENSEMBLES:
            _ENSEMBLES[key] = load_ensemble(name, weights_dir, engine=engine, dtype=dtype, **kwargs)
        return _ENSEMBLES[key]

    return get


@pytest.fixture(scope="session")
def small_store(tmp_path_factory, weights_dir) -> Path:
    """A float16 store of two short chr22 genes (one per strand), in 1 kb tiles (shared, read-only)."""
    from pipeline.tracks.plan import run_tracks as run

    out = tmp_path_factory.mktemp("small") / "store.zarr"
    run(two_gene_config(out))
    return out
