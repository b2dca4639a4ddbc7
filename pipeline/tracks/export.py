"""Genome-browser tracks from a store: bigWig (pyBigWig) or bedGraph, one file per tissue x metric x strand.

Unscored positions (NaN) are gaps, never zeros. Runs of equal values become one interval.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from ..errors import QueryError
from ..outputs import check_output_dir
from ..store.manifest import Manifest
from ..store.tile import STRAND_NAMES, Tile
from .query import METRICS, Store

EXPORT_FORMATS = ("bigwig", "bedgraph")


def runs(values: np.ndarray) -> Iterator[tuple[int, int, float]]:
    """(start, end, value) runs of equal, non-NaN values; indexes 0-based half-open."""
    valid = ~np.isnan(values)
    if not valid.any():
        return
    change = np.flatnonzero((values[1:] != values[:-1]) | (valid[1:] != valid[:-1])) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [len(values)]])
    for s, e in zip(starts, ends):
        if valid[s]:
            yield int(s), int(e), float(values[s])


def _scored_blocks(tiles: list[Tile], chrom: str, strand: str) -> Iterator[tuple[int, int]]:
    """The shards that may hold data: those of this chromosome and strand's tiles."""
    for tile in sorted(tiles, key=lambda t: t.start):
        if tile.chrom == chrom and tile.strand == strand:
            yield tile.start, tile.end


def export_tracks(store_path: str | Path, out_dir: str | Path, fmt: str = "bigwig",
                  tissues: list[str] | None = None, metrics: list[str] | None = None,
                  on_total: Callable[[int], None] | None = None,
                  on_file: Callable[[int], None] | None = None) -> list[Path]:
    """Write ``{tissue}.{metric}.{plus|minus}.bw`` (or ``.bedgraph``) files; return their paths.

    ``on_total(n)`` and ``on_file(1)`` report progress in files.

    Raises
    ------
    QueryError
        For an unknown format, metric or tissue (checked before anything is read or written).
    OutputError
        If ``out_dir`` cannot be created or written.
    """
    import pyBigWig

    if fmt not in EXPORT_FORMATS:
        raise QueryError(f"format must be {' or '.join(EXPORT_FORMATS)}; got {fmt!r}")
    unknown = sorted(set(metrics or ()) - set(METRICS))
    if unknown:
        raise QueryError(f"unknown metric(s) {', '.join(unknown)}; known: {', '.join(METRICS)}")
    out_dir = check_output_dir(out_dir)
    store = Store(store_path)
    known = list(store.dataset(store.chroms[0]).tissue.values)
    unknown = sorted(set(tissues or ()) - set(known))
    if unknown:
        raise QueryError(f"unknown tissue(s) {', '.join(unknown)}; known: {', '.join(known)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    tissues = tissues or known
    metrics = metrics or list(METRICS)
    suffix = "bw" if fmt == "bigwig" else "bedgraph"
    sizes = [(c, store.contigs[c]) for c in store.chroms]
    tiles = Manifest(store.path).tiles()
    paths = []
    if on_total:
        on_total(len(tissues) * len(metrics) * len(STRAND_NAMES))
    for tissue in tissues:
        for metric in metrics:
            for strand, name in STRAND_NAMES.items():
                path = out_dir / f"{tissue}.{metric}.{name}.{suffix}"
                if fmt == "bigwig":
                    writer = pyBigWig.open(str(path), "w")
                    writer.addHeader(sizes)
                else:
                    writer = open(path, "w")
                    writer.write(f'track type=bedGraph name="{tissue} {metric} {strand}"\n')
                for chrom, _ in sizes:
                    array = store.dataset(chrom)[metric].sel(strand=strand, tissue=tissue)
                    for lo, hi in _scored_blocks(tiles, chrom, strand):
                        values = array.isel(position=slice(lo, hi)).values.astype(np.float32)
                        intervals = list(runs(values))
                        if not intervals:
                            continue
                        starts = [lo + s for s, _, _ in intervals]
                        ends = [lo + e for _, e, _ in intervals]
                        vals = [v for _, _, v in intervals]
                        if fmt == "bigwig":
                            writer.addEntries([chrom] * len(starts), starts, ends=ends, values=vals)
                        else:
                            writer.writelines(f"{chrom}\t{s}\t{e}\t{v:.9g}\n" for s, e, v in zip(starts, ends, vals))
                writer.close()
                paths.append(path)
                if on_file:
                    on_file(1)
    return paths
