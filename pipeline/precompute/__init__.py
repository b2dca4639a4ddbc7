"""Precompute: plan a run, cut tiles, run tile tasks inline, on Dask or as array tasks, finalize."""
