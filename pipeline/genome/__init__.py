"""Genome access: FASTA reading, sequence encoding, annotation parsing (no torch, no dask)."""
