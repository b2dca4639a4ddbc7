"""``ds.pangolin`` and ``tree.pangolin``: regions, genes and sites where plain xarray is clumsy.

Registered when the package is imported and whenever the ``engine="pangolin"`` backend opens a store
(xarray imports the package to load it). On a chromosome's Dataset::

    ds.pangolin.region("chr22:32,151,001-32,151,200", strand="-")   # 1-based, both ends included
    ds.pangolin.gene("SLC5A1")                                      # the gene body, on its strand
    ds.pangolin.gene("SLC5A1").pangolin.sites(0.5)                  # DataFrame of predicted sites
    ds.pangolin.genes                                               # this chromosome's genes

and the same on the DataTree of a whole store, which finds the chromosome itself. A scalar
``strand`` or ``tissue`` drops that dimension, as ``.sel`` does; a list keeps it. Gene tables here
are 1-based and inclusive (``start``..``end``, like GTF), so ``.sel(position=slice(start, end))``
selects a gene.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
import xarray as xr

STORE_KEY = "pangolin_store"  # ds.encoding key set by the backend: the store's root path


@xr.register_dataset_accessor("pangolin")
class TrackAccessor:
    """Queries on one chromosome (or a part of one) of a store opened with ``engine="pangolin"``."""

    def __init__(self, ds: xr.Dataset):
        self._ds = ds

    @property
    def chrom(self) -> str:
        """The chromosome this Dataset belongs to."""
        if "chrom" not in self._ds.attrs:
            raise _not_track("has no 'chrom' attribute")
        return str(self._ds.attrs["chrom"])

    @property
    def length(self) -> int:
        """The chromosome's length in bases."""
        return int(self._ds.attrs["length"])

    @property
    def genes(self) -> pd.DataFrame:
        """This chromosome's genes, 1-based inclusive (``start``, ``end``, exon starts and ends)."""
        genes = _store_genes(self._store())
        return genes[genes.chrom == self.chrom].reset_index(drop=True)

    def region(self, region: str, strand: str | list[str] | None = None,
               tissue: str | list[str] | None = None) -> xr.Dataset:
        """The positions of ``region`` (``chr:start-end``, 1-based, both ends; ``chr:pos``; ``chr``).

        Raises
        ------
        RegionError
            For a malformed region, one outside the chromosome, or a bad strand or tissue.
        ContigNotFound
            If the region names another chromosome.
        """
        from .reader import resolve

        return self._select(resolve(region, _NO_GENES, {self.chrom: self.length}, f"chromosome {self.chrom}"),
                            strand, tissue)

    def gene(self, name: str, strand: str | list[str] | None = None,
             tissue: str | list[str] | None = None) -> xr.Dataset:
        """The body of gene ``name`` (name or id) on its own strand, unless ``strand`` is given."""
        from ..errors import RegionError
        from .reader import Selection, find_gene

        genes = _store_genes(self._store(), one_based=False)
        gene = find_gene(name, genes[genes.chrom == self.chrom])  # a name on two chromosomes: this one's
        if gene is None:
            elsewhere = find_gene(name, genes)
            if elsewhere is None:
                raise RegionError(f"{name!r} is not a gene of store {self._store().rstrip('/').rsplit('/', 1)[-1]}")
            raise RegionError(f"gene {name!r} lies on {elsewhere['chrom']}, not on {self.chrom}")
        selection = Selection.of_gene(gene)
        return self._select(selection, strand if strand is not None else selection.strand, tissue)

    def sites(self, threshold: float = 0.2, metric: str = "p_splice") -> pd.DataFrame:
        """Predicted splice sites: a row per (position, strand, tissue) with ``metric >= threshold``."""
        from .query import sites

        return sites(self._ds, threshold, metric)

    def table(self) -> pd.DataFrame:
        """The wide table that ``pangolin-pipeline query`` prints (chrom, position, strand, per tissue)."""
        from .query import to_table

        return to_table(self._ds)

    def _select(self, selection: Any, strand: str | list[str] | None, tissue: str | list[str] | None) -> xr.Dataset:
        from .reader import select

        if "position" not in self._ds.xindexes:
            raise _not_track("has no position index (a plain Zarr open names the axis 'offset')")
        return select(self._ds, selection, strand, tissue)

    def _store(self) -> str:
        path = self._ds.encoding.get(STORE_KEY)
        if path is None:
            raise _not_track("does not know its store (open it with engine='pangolin'; arithmetic drops that)")
        return path


@xr.register_datatree_accessor("pangolin")
class StoreAccessor:
    """Queries on a whole store opened with ``xr.open_datatree(path, engine="pangolin")``."""

    def __init__(self, tree: xr.DataTree):
        self._tree = tree

    @property
    def chromosomes(self) -> list[str]:
        return [name for name, node in self._tree.children.items() if "position" in node.dims]

    @property
    def genes(self) -> pd.DataFrame:
        """All genes of the store, 1-based inclusive."""
        return _genes_table(self._tree.root.attrs.get("genes"), one_based=True)

    def region(self, region: str, strand: str | list[str] | None = None,
               tissue: str | list[str] | None = None) -> xr.Dataset:
        """The positions of ``region`` on whichever chromosome it names (see `TrackAccessor.region`)."""
        from ..genome.contigs import match_contig
        from ..genome.regions import parse_region

        chrom = match_contig(parse_region(region).chrom, self.chromosomes, "store")
        return self.chromosome(chrom).pangolin.region(region, strand, tissue)

    def gene(self, name: str, strand: str | list[str] | None = None,
             tissue: str | list[str] | None = None) -> xr.Dataset:
        """The body of gene ``name`` on its own strand, unless ``strand`` is given."""
        from ..errors import RegionError
        from .reader import find_gene

        gene = find_gene(name, self.genes)
        if gene is None:
            raise RegionError(f"{name!r} is not a gene of this store")
        return self.chromosome(gene["chrom"]).pangolin.gene(name, strand, tissue)

    def chromosome(self, chrom: str) -> xr.Dataset:
        """One chromosome's node as a Dataset (with its store path, for gene lookups)."""
        ds = self._tree[chrom].to_dataset()
        ds.encoding.setdefault(STORE_KEY, self._tree.root.encoding.get(STORE_KEY)
                               or self._tree[chrom].encoding.get(STORE_KEY))
        return ds


def _not_track(why: str) -> Exception:
    from ..errors import StoreError

    return StoreError(f"this Dataset {why}; ds.pangolin works on stores opened with engine='pangolin'")


_NO_GENES = pd.DataFrame({"gene_id": [], "gene_name": []})


@lru_cache(maxsize=8)
def _cached_genes(path: str, mtime: float, one_based: bool) -> pd.DataFrame:
    from ..store import read_identity

    return _genes_table(read_identity(path)["genes"], one_based)


def _store_genes(path: str, one_based: bool = True) -> pd.DataFrame:
    from ..store.location import is_url

    # a published store never changes: its genes are read once per process
    return _cached_genes(path, 0.0 if is_url(path) else (Path(path) / "zarr.json").stat().st_mtime, one_based)


def _genes_table(columns: dict | None, one_based: bool) -> pd.DataFrame:
    """The store's gene table (0-based half-open), or 1-based inclusive for users."""
    from ..genome import gene_table

    genes = gene_table.genes_from_attrs(columns or {c: [] for c in ("gene_id", "gene_name", "chrom", "start", "end",
                                                                     "strand", "exon_starts", "exon_ends")})
    return gene_table.one_based(genes) if one_based else genes
