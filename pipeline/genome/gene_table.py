"""Gene tables (0-based half-open ``start``/``end``, exon starts and ends as arrays) as the products use
them: kept in a store's JSON attributes, shown 1-based, cut to a view, their exon boundaries as sites."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import AnnotationError
from .annotation import GeneFilter, read_genes


def genes_to_attrs(genes: pd.DataFrame) -> dict[str, list]:
    """The gene table as JSON-able columns (exons as comma-joined 0-based starts and ends)."""
    out: dict[str, list] = {}
    for column in genes.columns:
        if column in ("exon_starts", "exon_ends"):
            out[column] = [",".join(map(str, a)) for a in genes[column]]
        elif column in ("start", "end"):
            out[column] = [int(v) for v in genes[column]]
        else:
            out[column] = [str(v) for v in genes[column]]
    return out


def genes_from_attrs(columns: dict[str, list]) -> pd.DataFrame:
    """The gene table that `genes_to_attrs` wrote."""
    genes = pd.DataFrame(columns)
    for column in ("exon_starts", "exon_ends"):
        genes[column] = [np.array([int(v) for v in s.split(",")] if s else [], dtype=np.int64) for s in genes[column]]
    return genes


def one_based(genes: pd.DataFrame) -> pd.DataFrame:
    """The table 1-based and inclusive, as users and GTF count (``start`` and exon starts + 1)."""
    return genes.assign(start=genes["start"] + 1, exon_starts=[starts + 1 for starts in genes["exon_starts"]])


def genes_overlapping(genes: pd.DataFrame, chrom: str, start: int, end: int) -> pd.DataFrame:
    """Genes with a base in ``[start, end)`` of ``chrom`` (0-based half-open)."""
    return genes[(genes.chrom == chrom) & (genes.end > start) & (genes.start < end)]


def annotated_sites(gene: pd.Series) -> np.ndarray:
    """A gene's exon boundaries as 1-based positions (each exon's first and last base), in exon order."""
    sites = np.empty(2 * len(gene.exon_starts), dtype=np.int64)
    sites[0::2], sites[1::2] = gene.exon_starts + 1, gene.exon_ends
    return sites


def tagged_genes(annotation: str, tags: tuple[str, ...]) -> pd.DataFrame | None:
    """Every gene with the exons of its ``tags`` transcripts only, or None if no exon belongs to one."""
    try:
        tagged = read_genes(annotation, GeneFilter(tags=tuple(tags), tags_drop_genes=False))
    except AnnotationError:
        return None
    return tagged if any(len(e) for e in tagged.exon_starts) else None
