"""From the bases to score to tiles of work and the windows inside them (pure functions).

Coordinates are 0-based half-open. A tile is one shard of one strand of one chromosome:
``[index * tile_size, (index + 1) * tile_size)`` clipped to the chromosome. Inside a tile the
requested bases form *segments*; segments closer than the model's context are scored together
in one *window* (scoring a short gap is cheaper than paying the context twice), and only the
segment bases are stored.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..store.tile import Interval, Tile


def merge_intervals(intervals: Iterable[Interval], gap: int = 0, max_len: int | None = None) -> list[Interval]:
    """Sorted union of intervals; intervals separated by fewer than ``gap`` bases are joined, unless
    the joined interval would exceed ``max_len`` bases (a single longer interval stays whole)."""
    merged: list[list[int]] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if merged and start - merged[-1][1] < max(gap, 1) and (  # touching intervals join
                max_len is None or max(end, merged[-1][1]) - merged[-1][0] <= max_len):
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def make_tiles(chrom: str, strand: str, intervals: Iterable[Interval], length: int, tile_size: int) -> list[Tile]:
    """Tiles of one (chromosome, strand): the union of ``intervals`` clipped to ``[0, length)``
    and cut on the shard grid. Every requested base lands in exactly one tile."""
    clipped = [(max(s, 0), min(e, length)) for s, e in intervals]
    tiles: list[Tile] = []
    for start, end in merge_intervals(clipped):
        for index in range(start // tile_size, (end - 1) // tile_size + 1):
            lo, hi = index * tile_size, min((index + 1) * tile_size, length)
            piece = (max(start, lo), min(end, hi))
            if tiles and tiles[-1].index == index:
                last = tiles[-1]
                tiles[-1] = Tile(chrom, strand, index, lo, hi, last.segments + (piece,))
            else:
                tiles.append(Tile(chrom, strand, index, lo, hi, (piece,)))
    return tiles


def windows(segments: Iterable[Interval], context: int) -> list[Interval]:
    """Output ranges to score for a tile's segments: segments less than ``context`` apart are joined."""
    return merge_intervals(segments, gap=context)
