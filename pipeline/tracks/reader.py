"""Reading a splice-track store: the one reader every caller uses, and the one rule that turns a region
or gene into a selection of a chromosome's Dataset.

Datasets come from the ``engine="pangolin"`` backend (store/backend.py), with a 1-based ``position``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import xarray as xr

from ..errors import ContigNotFound, QueryError, RegionError, StoreError
from ..genome.contigs import match_contig
from ..genome.gene_table import genes_from_attrs
from ..genome.regions import Region, check_strand, clip_to_contig, parse_region
from ..store.backend import PangolinBackendEntrypoint
from ..store.identity import check_kind, read_identity
from ..store.location import locate

ALL_SNV_HINT = "use `lookup` or `export --format vcf`"
Labels = str | list[str] | None  # a label drops its dimension (as .sel does), a list keeps it


def read_track_identity(path: str | Path) -> dict[str, Any]:
    """The root attributes of a splice-track store (made by `run`, given by path or URL), for the track readers.

    Raises
    ------
    StoreError
        If ``path`` does not exist, is not a store of this package, or is an all-SNV store (made by
        `saturate`, whose SNV summaries the track readers cannot show: the message names what can).
    """
    path = locate(path)
    if not path.exists():
        raise StoreError(f"{path} does not exist" if not path.remote else
                         f"{path} is not a Zarr v3 store (no zarr.json there)")
    attrs = read_identity(path)
    if attrs.get("kind") == "snv":  # the track readers name what can read it
        raise StoreError(f"{path} is an all-SNV store (made by saturate): {ALL_SNV_HINT}")
    check_kind(attrs, "track", path)
    return attrs


def open_chrom(path: str | Path, chrom: str, dask: bool = True) -> xr.Dataset:
    """One chromosome of a store as a lazy Dataset with a 1-based ``position`` index.

    Dask-backed with the store's chunks, or (``dask=False``) lazily indexed: each selection then
    reads just its chunks with no task graph, which is faster for small queries on long
    chromosomes. Raises `ContigNotFound` (a KeyError) for a chromosome the store does not hold,
    `StoreError` for a path that is no store.
    """
    return xr.open_dataset(str(path), engine=PangolinBackendEntrypoint, group=chrom, chunks={} if dask else None)


def open_store(path: str | Path, dask: bool = True) -> xr.DataTree:
    """The whole store as a DataTree: one node per chromosome, positions as lazy indexes."""
    return xr.open_datatree(str(path), engine=PangolinBackendEntrypoint, chunks={} if dask else None)


class TrackReader:
    """A splice-track store opened for queries; chromosome datasets are opened lazily and cached."""

    def __init__(self, path: str | Path):
        """Raises `StoreError` if ``path`` (a path or URL) does not exist, is no store, or is an all-SNV store."""
        location = locate(path)
        self.path = location.path if location.path is not None else location  # .name works on both
        self.identity = read_track_identity(location)
        self.genes = genes_from_attrs(self.identity["genes"])
        self.contigs: dict[str, int] = self.identity["reference"]["contigs"]
        self._open: dict[str, xr.Dataset] = {}
        self.chroms = [c for c in self.contigs if location.has_node(c)]

    def dataset(self, chrom: str) -> xr.Dataset:
        """A chromosome, lazily indexed (no dask graph: queries read just their chunks)."""
        if chrom not in self._open:
            self._open[chrom] = open_chrom(self.path, chrom, dask=False)
        return self._open[chrom]

    def resolve(self, text: str) -> Selection:
        """A region string (``chr17:41,196,312-41,277,500``, 1-based inclusive) or a gene name/id."""
        return resolve(text, self.genes, {c: self.contigs[c] for c in self.chroms}, f"store {self.path.name}")

    def select(self, text: str, strand: str | None = None, tissues: list[str] | None = None) -> xr.Dataset:
        """The lazy Dataset of a region or gene (see `select`) with all three dimensions, as tables want them:
        ``strand`` (default: the gene's, else both) is kept as a dimension of length 1."""
        sel = self.resolve(text)
        return select(self.dataset(sel.chrom), sel, [strand] if strand else None, tissues)


@dataclass
class Selection:
    """A region of one chromosome, resolved against a store (0-based half-open)."""

    chrom: str
    start: int
    end: int
    strand: str | None  # the gene's strand when selected by gene
    gene: dict | None = None

    @classmethod
    def of_gene(cls, gene: dict) -> Selection:
        """The body of ``gene`` (a row of a gene table, 0-based half-open) on its strand."""
        return cls(gene["chrom"], int(gene["start"]), int(gene["end"]), gene["strand"], gene)


def resolve(text: str, genes: pd.DataFrame, contigs: dict[str, int], where: str) -> Selection:
    """A region string or a gene name/id of ``genes`` (0-based columns), on one of ``contigs``."""
    gene = find_gene(text, genes)
    if gene is not None:
        return Selection.of_gene(gene)
    region = parse_region(text)
    try:
        chrom = match_contig(region.chrom, list(contigs), where)
    except ContigNotFound:
        if ":" not in text and not genes.empty:
            raise RegionError(f"{text!r} is neither a gene of the {where} nor a chromosome in it "
                              f"({', '.join(list(contigs)[:5])})") from None
        raise
    region = clip_to_contig(Region(chrom, region.start, region.end), contigs[chrom])
    return Selection(chrom, region.start, region.end, None)


def find_gene(name: str, genes: pd.DataFrame) -> dict | None:
    """The gene named or identified so: exactly, else case-insensitively when that is unambiguous."""
    if genes.empty:
        return None
    hits = genes[(genes.gene_name == name) | (genes.gene_id == name)]
    if hits.empty:
        folded = name.casefold()
        hits = genes[(genes.gene_name.str.casefold() == folded) | (genes.gene_id.str.casefold() == folded)]
        if hits.gene_id.nunique() > 1:
            names = ", ".join(sorted(set(hits.gene_name)))
            raise QueryError(f"{name!r} matches {hits.gene_id.nunique()} genes ignoring case ({names}); "
                             "give the exact name or the gene id")
    return None if hits.empty else hits.iloc[0].to_dict()


def select(ds: xr.Dataset, sel: Selection, strand: Labels = None, tissue: Labels = None) -> xr.Dataset:
    """``sel`` of a chromosome's Dataset by label (1-based, both ends), on ``strand`` (default: the
    gene's, else both) and ``tissue`` (default: all). A label drops its dimension, as ``.sel`` does;
    a list keeps it.

    Raises
    ------
    RegionError
        For a strand other than + or -, or a strand or tissue the Dataset does not hold.
    """
    ds = ds.sel(position=slice(sel.start + 1, sel.end))
    if strand is None and sel.strand:
        strand = [sel.strand]
    for dim, wanted in (("strand", strand), ("tissue", tissue)):
        if not wanted:  # None or an empty list: all of them
            continue
        asked = [wanted] if isinstance(wanted, str) else list(wanted)
        if dim == "strand":
            for value in asked:
                check_strand(value)
        known = [str(v) for v in ds[dim].values.ravel()]
        unknown = [w for w in asked if w not in known]
        if unknown:
            raise RegionError(f"unknown {dim} {', '.join(map(str, unknown))}; known: {', '.join(known)}")
        if dim in ds.dims:
            ds = ds.sel({dim: wanted if isinstance(wanted, str) else asked})
    return ds.assign_attrs(chrom=sel.chrom)
