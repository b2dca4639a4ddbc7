"""A region's or gene's per-base tracks from a track store, as JSON-ready lists (binned when long)."""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np

from ..errors import PipelineError
from ..tracks.reader import select
from .answers import InputProblem
from .catalog import TrackEntry

_LOCK = threading.Lock()  # track stores cache opened datasets: one reader at a time


def read_tracks(entry: TrackEntry, query: str, points: int, max_length: int) -> dict[str, Any]:
    """P(splice) and usage per strand and tissue over ``query`` (a region ``chr:start-end``, 1-based
    inclusive, or a gene), at most ``points`` values per track (the maximum of each bin)."""
    with _LOCK:
        try:
            sel = entry.store.resolve(query)
        except (PipelineError, KeyError, ValueError) as err:
            raise InputProblem("bad_region", _one_line(err)) from None
        length = sel.end - sel.start
        if length < 1:
            raise InputProblem("bad_region", f"{query[:60]!r} is an empty region")
        if length > max_length:
            raise InputProblem("region_too_long", f"{query[:60]!r} spans {length:,} bases; the limit is "
                               f"{max_length:,}", 413)
        ds = select(entry.store.dataset(sel.chrom), sel, strand=None)
        p_splice = ds.p_splice.values.astype(np.float32)  # (strand, position, tissue)
        usage = ds.usage.values.astype(np.float32)
        strands, tissues = [str(s) for s in ds.strand.values], [str(t) for t in ds.tissue.values]
    size = max(1, math.ceil(length / points))
    tracks = {}
    for s, strand in enumerate(strands):
        tracks[strand] = {metric: {tissue: _binned(values[s, :, t], size) for t, tissue in enumerate(tissues)}
                          for metric, values in (("p_splice", p_splice), ("usage", usage))}
    genes = entry.store.genes
    near = genes[(genes.chrom == sel.chrom) & (genes.start < sel.end) & (genes.end > sel.start)].head(50)
    return {"store": entry.name, "chrom": sel.chrom, "start": sel.start + 1, "end": sel.end,
            "strand": sel.strand, "gene": sel.gene["gene_name"] if sel.gene else None, "bin": size,
            "positions": list(range(sel.start + 1, sel.end + 1, size)), "tissues": tissues, "tracks": tracks,
            "genes": [{"gene_id": str(g.gene_id), "gene_name": str(g.gene_name), "strand": str(g.strand),
                       "start": int(g.start) + 1, "end": int(g.end),
                       "exons": [[int(a) + 1, int(b)] for a, b in zip(g.exon_starts, g.exon_ends)][:500]}
                      for g in near.itertuples()]}


def _binned(values: np.ndarray, size: int) -> list[float | None]:
    """Per bin of ``size`` bases the largest value (NaN where nothing in the bin was scored), 4 decimals."""
    if size > 1:
        pad = (-len(values)) % size
        values = np.concatenate([values, np.full(pad, np.nan, dtype=values.dtype)]).reshape(-1, size)
        scored = ~np.isnan(values).all(axis=1)
        out = np.full(len(values), np.nan, dtype=np.float32)
        out[scored] = np.nanmax(values[scored], axis=1)
        values = out
    return [None if np.isnan(v) else round(float(v), 4) for v in values]


def _one_line(err: Exception) -> str:
    text = str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)
    return " ".join(text.split())[:300]
