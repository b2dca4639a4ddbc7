"""Pangolin splice tracks: the model, a genome-wide Dask/Zarr pipeline, variant scoring, queries."""

__version__ = "0.1.0"
