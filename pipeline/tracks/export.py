"""Genome-browser tracks from a store: bigWig (pyBigWig) or bedGraph, one file per tissue x metric x strand.

Unscored positions (NaN) are gaps, never zeros. Runs of equal values become one interval. Each scored
block (one shard of one strand) is read once, both metrics and all tissues together, and its runs
go to every output file at once; bigWig entries are passed as numpy arrays.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import QueryError
from ..outputs import check_output_dir
from ..store.manifest import Manifest
from ..store.tile import Tile
from .query import METRICS
from .reader import TrackReader

EXPORT_FORMATS = ("bigwig", "bedgraph")

TRACK_STRANDS = {"+": "plus", "-": "minus"}  # file name part of each strand


def runs(values: np.ndarray) -> Iterator[tuple[int, int, float]]:
    """(start, end, value) runs of equal, non-NaN values; indexes 0-based half-open."""
    starts, ends, vals = run_arrays(values)
    for s, e, v in zip(starts.tolist(), ends.tolist(), vals.tolist()):
        yield s, e, v


def run_arrays(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The runs of equal, non-NaN values as arrays: starts and ends (0-based half-open), values."""
    valid = ~np.isnan(values)
    if not valid.any():
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, values[:0]
    change = np.flatnonzero((values[1:] != values[:-1]) | (valid[1:] != valid[:-1])) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [len(values)]])
    keep = valid[starts]
    return starts[keep], ends[keep], values[starts[keep]]


def _scored_blocks(tiles: list[Tile], chrom: str, strand: str) -> Iterator[tuple[int, int]]:
    """The shards that may hold data: those of this chromosome and strand's tiles."""
    for tile in sorted(tiles, key=lambda t: t.start):
        if tile.chrom == chrom and tile.strand == strand:
            yield tile.start, tile.end


class _Track:
    """One output file: a bigWig or bedGraph writer for one tissue, metric and strand."""

    def __init__(self, path: Path, fmt: str, sizes: list[tuple[str, int]], title: str):
        import pyBigWig

        self.path, self.bigwig = path, fmt == "bigwig"
        if self.bigwig:
            self.writer: Any = pyBigWig.open(str(path), "w")
            self.writer.addHeader(sizes)
        else:
            self.writer = open(path, "w")
            self.writer.write(f'track type=bedGraph name="{title}"\n')

    def add(self, chrom: str, offset: int, values: np.ndarray) -> None:
        """The runs of ``values``, whose first element is at 0-based ``offset`` on ``chrom``."""
        starts, ends, vals = run_arrays(values)
        if not len(starts):
            return
        starts, ends = starts + offset, ends + offset
        if self.bigwig:
            self.writer.addEntries([chrom] * len(starts), starts, ends=ends, values=vals.astype(np.float64))
        else:
            self.writer.writelines(f"{chrom}\t{s}\t{e}\t{v:.9g}\n"
                                   for s, e, v in zip(starts.tolist(), ends.tolist(), vals.tolist()))

    def close(self) -> None:
        self.writer.close()


def export_tracks(store_path: str | Path, out_dir: str | Path, fmt: str = "bigwig",
                  tissues: list[str] | None = None, metrics: list[str] | None = None) -> list[Path]:
    """Write ``{tissue}.{metric}.{plus|minus}.bw`` (or ``.bedgraph``) files; return their paths.

    Raises
    ------
    QueryError
        For an unknown format, metric or tissue (checked before anything is read or written).
    StoreError
        If ``store_path`` does not exist, is no store, or is an all-SNV store (which `export_vcf` exports).
    OutputError
        If ``out_dir`` cannot be created or written.
    """

    if fmt not in EXPORT_FORMATS:
        raise QueryError(f"format must be {' or '.join(EXPORT_FORMATS)}; got {fmt!r}")
    unknown = sorted(set(metrics or ()) - set(METRICS))
    if unknown:
        raise QueryError(f"unknown metric(s) {', '.join(unknown)}; known: {', '.join(METRICS)}")
    store = TrackReader(store_path)
    out_dir = check_output_dir(out_dir)
    known = [str(t) for t in store.dataset(store.chroms[0]).tissue.values]
    unknown = sorted(set(tissues or ()) - set(known))
    if unknown:
        raise QueryError(f"unknown tissue(s) {', '.join(unknown)}; known: {', '.join(known)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    tissues = tissues or known
    metrics = metrics or list(METRICS)
    suffix = "bw" if fmt == "bigwig" else "bedgraph"
    sizes = [(c, store.contigs[c]) for c in store.chroms]
    tiles = Manifest(store.path).tiles()
    tracks = {(tissue, metric, strand): _Track(out_dir / f"{tissue}.{metric}.{name}.{suffix}", fmt, sizes,
                                               f"{tissue} {metric} {strand}")
              for tissue in tissues for metric in metrics for strand, name in TRACK_STRANDS.items()}
    try:
        for chrom, _ in sizes:
            ds = store.dataset(chrom)[metrics]
            columns = [known.index(t) for t in tissues]
            for strand in TRACK_STRANDS:
                for lo, hi in _scored_blocks(tiles, chrom, strand):
                    block = ds.sel(strand=strand).isel(position=slice(lo, hi))
                    for metric in metrics:
                        values = block[metric].values.astype(np.float32)  # (positions, tissues): one read
                        for tissue, column in zip(tissues, columns):
                            tracks[tissue, metric, strand].add(chrom, lo, np.ascontiguousarray(values[:, column]))
    finally:
        for track in tracks.values():
            track.close()
    return [track.path for track in tracks.values()]
