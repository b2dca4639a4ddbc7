"""The Zarr v3 store: layout and identity, per-tile writes and done markers, opening as xarray."""

from .consolidated import consolidate
from .layout import FORMAT_VERSION, create_store, read_identity
from .manifest import Manifest
from .reader import open_chrom, open_store, read_track_identity

__all__ = ["FORMAT_VERSION", "Manifest", "consolidate", "create_store", "open_chrom", "open_store", "read_identity",
           "read_track_identity"]
