"""A gene table kept in a store's JSON attributes (both products keep the genes they were made from)."""

from __future__ import annotations

import numpy as np
import pandas as pd


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
    genes = pd.DataFrame(columns)
    for column in ("exon_starts", "exon_ends"):
        genes[column] = [np.array([int(v) for v in s.split(",")] if s else [], dtype=np.int64) for s in genes[column]]
    return genes
