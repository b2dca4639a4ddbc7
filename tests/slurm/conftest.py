"""The ``slurm`` fixture: a real single-node SLURM for the session (see local_slurm.py)."""

from __future__ import annotations

import os

import pytest

from .local_slurm import SlurmUnavailable, single_node_slurm


@pytest.fixture(scope="session")
def slurm(tmp_path_factory):
    """Environment variables pointing SLURM clients at a running single-node cluster."""
    try:
        with single_node_slurm(tmp_path_factory.mktemp("slurm")) as env:
            previous = {key: os.environ.get(key) for key in env}
            os.environ.update(env)  # dask-jobqueue calls sbatch/squeue with this process's environment
            try:
                yield env
            finally:
                for key, value in previous.items():
                    os.environ.pop(key) if value is None else os.environ.__setitem__(key, value)
    except SlurmUnavailable as error:
        pytest.skip(f"no SLURM: {error}")
