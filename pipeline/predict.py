"""Scoring one region of a FASTA into a per-position table (the `predict` command)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .genome.encode import count_ambiguous, one_hot
from .genome.fasta import Reference
from .genome.regions import Region, clip_to_contig
from .model import Ensemble
from .model.head import FinetunedHead


def predict_region(ensemble: Ensemble, reference: Reference, region: Region, strand: str,
                   head: FinetunedHead | None = None) -> pd.DataFrame:
    """One row per position of ``region`` (1-based ``position``) with the ensemble's 12 channels, and
    one column per output of a fine-tuned ``head`` (``p_donor``, ``p_acceptor`` or its usage targets).

    Context beyond the contig ends is read as N. Returns the table and warns (via the caller) of
    non-ACGTN symbols through the ``ambiguous`` attribute of the frame.
    """
    chrom = reference.resolve(region.chrom)
    region = clip_to_contig(Region(chrom, region.start, region.end), reference.lengths[chrom])
    flank = ensemble.context // 2
    seq = reference.fetch(chrom, region.start - flank, region.end + flank)
    scores = ensemble.score_sequence(seq, strand)
    table = pd.DataFrame(scores, columns=ensemble.channels)
    if head is not None:
        table[head.columns] = head.score_onehot(one_hot(seq), strand)
    table.insert(0, "strand", strand)
    table.insert(0, "position", np.arange(region.start + 1, region.end + 1))
    table.insert(0, "chrom", chrom)
    table.attrs["ambiguous"] = count_ambiguous(seq)
    return table
