"""Pangolin splice tracks: the model, a genome-wide Dask/Zarr pipeline, variant scoring, queries."""

__version__ = "0.1.0"

from .tracks import accessor as _accessor  # noqa: E402,F401  registers ds.pangolin and tree.pangolin
