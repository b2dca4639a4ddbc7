"""Getting answers out of a store: regions and genes as xarray, site tables, text tables, tracks.

All positions a user sees are 1-based (region strings, the ``position`` coordinate, TSV output).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import ContigNotFound, QueryError, RegionError
from ..genome.contigs import match_contig
from ..genome.regions import Region, check_strand, clip_to_contig, parse_region
from ..store import open_chrom, read_identity
from ..store.layout import genes_from_attrs

METRICS = ("p_splice", "usage")


@dataclass
class Selection:
    """A region of one chromosome, resolved against a store (0-based half-open)."""

    chrom: str
    start: int
    end: int
    strand: str | None  # the gene's strand when selected by gene
    gene: dict | None = None


class Store:
    """A precomputed store opened for queries; chromosome datasets are opened lazily and cached."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.identity = read_identity(self.path)
        self.genes = genes_from_attrs(self.identity["genes"])
        self.contigs: dict[str, int] = self.identity["reference"]["contigs"]
        self._open: dict[str, xr.Dataset] = {}
        self.chroms = [c for c in self.contigs if (self.path / c / "zarr.json").exists()]

    def dataset(self, chrom: str) -> xr.Dataset:
        """A chromosome, lazily indexed (no dask graph: queries read just their chunks)."""
        if chrom not in self._open:
            self._open[chrom] = open_chrom(self.path, chrom, dask=False)
        return self._open[chrom]

    def resolve(self, text: str) -> Selection:
        """A region string (``chr17:41,196,312-41,277,500``, 1-based inclusive) or a gene name/id."""
        return resolve(text, self.genes, {c: self.contigs[c] for c in self.chroms}, f"store {self.path.name}")

    def select(self, text: str, strand: str | None = None, tissues: list[str] | None = None) -> xr.Dataset:
        """The lazy Dataset of a region or gene (the gene's own strand unless ``strand`` is given)."""
        sel = self.resolve(text)
        return select(self.dataset(sel.chrom), sel, strand, tissues)


def resolve(text: str, genes: pd.DataFrame, contigs: dict[str, int], where: str) -> Selection:
    """A region string or a gene name/id of ``genes`` (0-based columns), on one of ``contigs``."""
    gene = find_gene(text, genes)
    if gene is not None:
        return Selection(gene["chrom"], int(gene["start"]), int(gene["end"]), gene["strand"], gene)
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


def select(ds: xr.Dataset, sel: Selection, strand: str | None = None, tissues: list[str] | None = None
           ) -> xr.Dataset:
    """``sel`` of a chromosome's Dataset by label (1-based, both ends), on ``strand`` (default: the
    gene's, else both; kept as a dimension) and ``tissues``."""
    ds = ds.sel(position=slice(sel.start + 1, sel.end))
    strand = strand or sel.strand
    if strand:
        check_strand(strand)
        ds = ds.sel(strand=[strand])
    if tissues:
        unknown = set(tissues) - set(ds.tissue.values)
        if unknown:
            raise RegionError(
                f"unknown tissue(s) {', '.join(sorted(unknown))}; known: {', '.join(ds.tissue.values)}"
            )
        ds = ds.sel(tissue=list(tissues))
    return ds.assign_attrs(chrom=sel.chrom)


def _with_dims(ds: xr.Dataset) -> xr.Dataset:
    """Scalar strand or tissue selections back as length-1 dimensions (tables need all three)."""
    for dim in ("strand", "tissue"):
        if dim not in ds.dims:
            ds = ds.expand_dims(dim)
    return ds.transpose("strand", "position", "tissue", ...)


def to_table(ds: xr.Dataset) -> pd.DataFrame:
    """Wide table: chrom, position, strand, then {tissue}_p_splice and {tissue}_usage columns, then one
    column per fine-tuned head output the store holds (`run --head`: p_donor, p_acceptor, ...)."""
    ds = _with_dims(ds)
    frames = []
    heads = sorted((name for name, var in ds.data_vars.items() if name not in METRICS and "tissue" not in var.dims),
                   key=lambda name: ds[name].attrs.get("head_order", 0))
    values = {name: ds[name].values.astype(np.float32) for name in (*METRICS, *heads)}  # one read each
    positions = ds.position.values
    for s, strand in enumerate(ds.strand.values):
        columns = {"chrom": ds.attrs["chrom"], "position": positions, "strand": strand}
        for t, tissue in enumerate(ds.tissue.values):
            for metric in METRICS:
                columns[f"{tissue}_{metric}"] = values[metric][s, :, t]
        for name in heads:
            columns[name] = values[name][s]
        frames.append(pd.DataFrame(columns))
    return pd.concat(frames, ignore_index=True)


def write_table(table: pd.DataFrame, fmt: str, out: str | Path | None = None) -> None:
    """Write a `to_table` frame as tsv, csv, json (records) or parquet to ``out`` (stdout if None).

    TSV and CSV have one header row and no comment lines, so every reader's defaults load them;
    NaN (not scored) is written as NA.
    """
    if fmt == "parquet":
        if out is None:
            raise QueryError("--format parquet needs --out FILE (parquet is binary)")
        table.to_parquet(out, index=False)
    elif fmt == "json":
        text = table.to_json(orient="records")
        if out is None:
            sys.stdout.write(text + "\n")
        else:
            Path(out).write_text(text)
    else:
        table.to_csv(out if out is not None else sys.stdout, sep="\t" if fmt == "tsv" else ",", index=False,
                     na_rep="NA", float_format="%.6g")


def sites(ds: xr.Dataset, threshold: float = 0.2, metric: str = "p_splice") -> pd.DataFrame:
    """Predicted splice sites: one row per (position, strand, tissue) with ``metric >= threshold``."""
    if metric not in METRICS:
        raise RegionError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
    data = _with_dims(ds[["p_splice", "usage"]]).load()
    hits = np.argwhere(np.nan_to_num(data[metric].values.astype(np.float32), nan=-1) >= threshold)
    rows = {
        "chrom": ds.attrs["chrom"],
        "position": data.position.values[hits[:, 1]],
        "strand": data.strand.values[hits[:, 0]],
        "tissue": data.tissue.values[hits[:, 2]],
        "p_splice": data.p_splice.values[tuple(hits.T)].astype(np.float32),
        "usage": data.usage.values[tuple(hits.T)].astype(np.float32),
    }
    return pd.DataFrame(rows).sort_values(["position", "strand", "tissue"], ignore_index=True)
