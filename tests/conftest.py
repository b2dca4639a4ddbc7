"""Shared fixtures: paths into ../shared, the golden outputs, loaded ensembles (cached per session)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PANGOLIN_SHARED", REPO.parent / "shared"))
WEIGHTS = Path(os.environ.get("PANGOLIN_WEIGHTS", SHARED / "weights" / "pangolin-v2"))
DATA = SHARED / "data"
GOLDEN = SHARED / "golden"


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
    from pipeline.config import load_config
    from pipeline.precompute.driver import run

    out = tmp_path_factory.mktemp("small") / "store.zarr"
    run(load_config(None, fasta=str(DATA / "grch38-chr22" / "chr22.fa.gz"), weights=str(weights_dir),
                    annotation=str(REPO / "tests" / "data" / "two_genes.gtf"), out=str(out),
                    tile_size=1024, chunk_size=256, cluster="none"))
    return out
