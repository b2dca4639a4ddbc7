"""Scoring one region of a FASTA into a per-position table (the `predict` command)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import IO

import numpy as np
import pandas as pd

from .errors import SequenceError
from .genome.encode import count_ambiguous, one_hot
from .genome.fasta import Reference
from .genome.regions import Region, clip_to_contig
from .model import Ensemble
from .model.head import FinetunedHead, postprocess


def predict_region(ensemble: Ensemble, reference: Reference, region: Region, strand: str,
                   head: FinetunedHead | None = None, on_total: Callable[[int], None] | None = None,
                   on_bases: Callable[[int], None] | None = None) -> pd.DataFrame:
    """One row per position of ``region`` (1-based ``position``) with the ensemble's 12 channels, and
    one column per output of a fine-tuned ``head`` (``p_donor``, ``p_acceptor`` or its usage targets).

    Context beyond the contig ends is read as N. Returns the table and warns (via the caller) of
    non-ACGTN symbols through the ``ambiguous`` attribute of the frame. Warns (one line, with the
    count) where some of the region is N. ``on_total(n)`` and ``on_bases(k)`` report progress in bases.

    Raises
    ------
    SequenceError
        If the region has no A, C, G or T at all (all N: its scores would describe no sequence).
    """
    chrom = reference.resolve(region.chrom)
    region = clip_to_contig(Region(chrom, region.start, region.end), reference.lengths[chrom])
    flank = ensemble.context // 2
    seq = reference.fetch(chrom, region.start - flank, region.end + flank)
    check_known_bases(seq[flank : len(seq) - flank], region)
    if on_total:
        on_total(region.end - region.start)
    onehot = one_hot(seq)
    scores = ensemble.score_onehot(onehot, strand, on_bases)  # progress per engine pass
    table = pd.DataFrame(postprocess(scores, ensemble.channels))
    if head is not None:
        table[head.columns] = head.score_onehot(onehot, strand)
    table.insert(0, "strand", strand)
    table.insert(0, "position", np.arange(region.start + 1, region.end + 1))
    table.insert(0, "chrom", chrom)
    table.attrs["ambiguous"] = count_ambiguous(seq)
    return table


def check_known_bases(bases: str, region: Region) -> None:
    """Refuse a region without a single A, C, G or T; warn (one line) of the N bases in one that has some.

    Scores over unknown sequence are what the network says of nothing: ordinary-looking numbers that
    describe no genome (FASTA gaps, the N stretches around a real slice).
    """
    known = int(one_hot(bases).sum())
    unknown = len(bases) - known - count_ambiguous(bases)  # IUPAC codes have a warning of their own
    if not known:
        raise SequenceError(f"region {region} is all N (unknown sequence, {len(bases):,} bases): its scores would "
                            f"mean nothing; choose a region with A, C, G or T")
    if unknown:
        warnings.warn(f"{unknown:,} of {len(bases):,} bases of {region} are N (unknown sequence): their scores "
                      f"mean nothing", stacklevel=3)


def write_prediction(table: pd.DataFrame, out: IO[str]) -> None:
    """The table as TSV (one header row) to the open handle ``out``; each float32 value printed in
    the shortest form that reads back to exactly it."""
    values = table.select_dtypes("floating").columns
    text = table.assign(**{c: table[c].to_numpy().astype(np.float32).astype(str) for c in values})
    text.to_csv(out, sep="\t", index=False)
