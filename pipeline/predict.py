"""Scoring one region of a FASTA into a per-position table (the `predict` command)."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from .genome.encode import count_ambiguous, one_hot, reverse_complement_onehot
from .genome.fasta import Reference
from .genome.regions import Region, check_strand, clip_to_contig
from .model import Ensemble
from .model.cost import split_windows
from .model.head import FinetunedHead


def score_in_passes(ensemble: Ensemble, seq: str, strand: str,
                    on_bases: Callable[[int], None] | None = None) -> np.ndarray:
    """`Ensemble.score_sequence`, one engine pass at a time so that progress can be reported.

    Passes are cut at the engine's own window boundaries (in reading order of the strand) and the
    last one is N-padded as the engine pads it, so every window sees the same input as in one
    call: the result is bit for bit that of ``ensemble.score_sequence(seq, strand)``.
    """
    check_strand(strand)
    onehot = one_hot(seq)
    scan = np.ascontiguousarray(reverse_complement_onehot(onehot)) if strand == "-" else onehot
    n_out = len(seq) - ensemble.context
    if n_out <= ensemble.window:  # one window: nothing to report in between
        scores = ensemble.score_onehot(onehot, strand)
        if on_bases:
            on_bases(n_out)
        return scores
    # the windows `score_sequence` uses (equal widths), so that the result is the same bit for bit
    ensemble = dataclasses.replace(ensemble, window=split_windows(n_out, ensemble.window)[1])
    step = ensemble.window * ensemble.batch_size
    parts = []
    for lo in range(0, n_out, step):
        chunk = scan[lo : lo + step + ensemble.context]
        size = min(step, n_out - lo)
        padded = -(-size // ensemble.window) * ensemble.window + ensemble.context
        if len(chunk) < padded:
            chunk = np.concatenate([chunk, np.zeros((padded - len(chunk), 4), dtype=chunk.dtype)])
        parts.append(ensemble.score_batch(chunk[None])[0, :size])
        if on_bases:
            on_bases(size)
    scores = np.concatenate(parts)
    return np.ascontiguousarray(scores[::-1] if strand == "-" else scores)


def predict_region(ensemble: Ensemble, reference: Reference, region: Region, strand: str,
                   head: FinetunedHead | None = None, on_total: Callable[[int], None] | None = None,
                   on_bases: Callable[[int], None] | None = None) -> pd.DataFrame:
    """One row per position of ``region`` (1-based ``position``) with the ensemble's 12 channels, and
    one column per output of a fine-tuned ``head`` (``p_donor``, ``p_acceptor`` or its usage targets).

    Context beyond the contig ends is read as N. Returns the table and warns (via the caller) of
    non-ACGTN symbols through the ``ambiguous`` attribute of the frame. ``on_total(n)`` and
    ``on_bases(k)`` report progress in bases.
    """
    chrom = reference.resolve(region.chrom)
    region = clip_to_contig(Region(chrom, region.start, region.end), reference.lengths[chrom])
    flank = ensemble.context // 2
    seq = reference.fetch(chrom, region.start - flank, region.end + flank)
    if on_total:
        on_total(region.end - region.start)
    scores = score_in_passes(ensemble, seq, strand, on_bases)
    table = pd.DataFrame(scores, columns=ensemble.channels)
    if head is not None:
        table[head.columns] = head.score_onehot(one_hot(seq), strand)
    table.insert(0, "strand", strand)
    table.insert(0, "position", np.arange(region.start + 1, region.end + 1))
    table.insert(0, "chrom", chrom)
    table.attrs["ambiguous"] = count_ambiguous(seq)
    return table


def write_prediction(table: pd.DataFrame, out: str | Path | None = None) -> None:
    """The table as TSV (one header row, 6 significant digits) to ``out``, or stdout if None."""
    table.to_csv(out if out is not None else sys.stdout, sep="\t", index=False, float_format="%.6g")
