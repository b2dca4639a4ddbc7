"""A gene table against a reference: contig names as the FASTA spells them, genes off its sequence dropped."""

from __future__ import annotations

import warnings

import pandas as pd

from ..errors import AnnotationError, ContigNotFound
from .contigs import match_contig
from .fasta import Reference


def genes_on_reference(genes: pd.DataFrame, reference: Reference) -> pd.DataFrame:
    """Genes with chrom renamed to the FASTA's names; genes on absent contigs dropped with one warning."""
    names = {}
    for chrom in genes.chrom.unique():
        try:
            names[chrom] = match_contig(chrom, reference.lengths)
        except ContigNotFound:
            names[chrom] = None
    mapped = genes.chrom.map(names)
    missing = genes[mapped.isna()]
    if len(missing):
        contigs = ", ".join(sorted(missing.chrom.unique())[:5])
        warnings.warn(
            f"{len(missing)} gene(s) on {missing.chrom.nunique()} contig(s) absent from the FASTA were "
            f"skipped ({contigs}...)", stacklevel=2,
        )
    genes = genes[mapped.notna()].assign(chrom=mapped[mapped.notna()])
    if genes.empty:
        raise AnnotationError(
            "no gene lies on a contig of the FASTA: do the annotation's contig names match the FASTA's "
            f"({', '.join(list(reference.lengths)[:3])}...)?"
        )
    return _within_sequence(genes, reference.lengths).reset_index(drop=True)


def _within_sequence(genes: pd.DataFrame, lengths: dict[str, int]) -> pd.DataFrame:
    """Drop genes that start past their contig's sequence (empty or shorter contig: another assembly?)
    and warn about genes that run past it (scored up to the end); error if none is left."""
    length = genes.chrom.map(lengths)
    outside, overhang = genes.start >= length, (genes.start < length) & (genes.end > length)
    if outside.any():
        warnings.warn(f"{int(outside.sum())} gene(s) start past the end of their contig's sequence in the FASTA "
                      f"(e.g. {genes[outside].gene_id.iloc[0]} on {genes[outside].chrom.iloc[0]}, "
                      f"{int(length[outside].iloc[0]):,} bases) and were skipped: is this the annotation's assembly?",
                      stacklevel=3)
    if overhang.any():
        warnings.warn(f"{int(overhang.sum())} gene(s) run past the end of their contig; scored up to the end",
                      stacklevel=3)
    if outside.all():
        raise AnnotationError("every gene lies past the end of its contig's sequence in the FASTA: "
                              "annotation and FASTA are from different assemblies?")
    return genes[~outside]
