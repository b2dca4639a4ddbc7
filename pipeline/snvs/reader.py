"""Reading an all-SNV store: per SNV, the stored official summary of each gene (no model, no weights).

Reads go through a small cache of chunk-aligned blocks, so a position-sorted VCF reads each
chunk once.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import zarr

from ..errors import ContigNotFound
from ..genome.contigs import match_contig
from ..genome.gene_table import genes_from_attrs
from ..store.identity import StoreIdentity, check_kind, read_identity
from ..store.labels import ALTS
from ..store.location import locate
from .layout import NO_SCORE, OFFICIAL

READ = ("ref", "gene", *OFFICIAL)  # the variables a lookup reads


@dataclass(frozen=True)
class StoredSummary:
    """One gene's official summary of one SNV: gain and loss in hundredths, their offsets (bases)."""

    gene_id: str
    gain: int
    gain_pos: int
    loss: int
    loss_pos: int
    warning: str


class SnvReader:
    """An all-SNV store opened for lookups."""

    def __init__(self, path: str | Path, cache_blocks: int = 64):
        location = locate(path)  # a path or a URL
        self.path = location.path if location.path is not None else location
        attrs = read_identity(location)
        check_kind(attrs, "snv", path)
        self.identity = StoreIdentity.from_attrs(attrs)
        self.settings = self.identity.settings
        self.genes = genes_from_attrs(attrs["genes"])
        self.root = zarr.open_group(location.zarr_store(), mode="r", **({"zarr_format": 3} if location.remote else {}))
        self.contigs = {c: self.root[c].attrs["length"] for c in self.root.group_keys() if not c.startswith("_")}
        self.block = self.identity.tiling["chunk_size"]
        self.cache: OrderedDict[tuple[str, int], dict[str, np.ndarray]] = OrderedDict()
        self.cache_blocks = cache_blocks
        self.gene_ids = [str(g) for g in self.genes.gene_id]
        self._contig_names: dict[str, str | None] = {}
        no_exons = np.array([len(e) == 0 for e in self.genes.exon_starts])
        self.warnings = np.where(no_exons & self.settings["mask"], "NoAnnotatedSitesToMaskForThisGene", "")

    def _contig(self, name: str) -> str | None:
        """The store's name for contig ``name`` (aliases allowed), or None; resolved once per name."""
        if name not in self._contig_names:
            try:
                self._contig_names[name] = match_contig(name, self.contigs, "the store")
            except ContigNotFound:
                self._contig_names[name] = None
        return self._contig_names[name]

    def _block(self, chrom: str, index: int) -> dict[str, np.ndarray]:
        key = (chrom, index)
        if key not in self.cache:
            window = slice(index * self.block, (index + 1) * self.block)
            self.cache[key] = {name: self.root[f"{chrom}/{name}"][window] for name in READ}
            if len(self.cache) > self.cache_blocks:
                self.cache.popitem(last=False)
        self.cache.move_to_end(key)
        return self.cache[key]

    def lookup(self, chrom: str, pos: int, ref: str, alt: str) -> tuple[list[StoredSummary] | None, str | None]:
        """(summaries per gene in the official order, None) or (None, why not): ``not_in_store`` (no
        contig or position of the store), ``ref_mismatch``, or ``not_snv``."""
        ref, alt = ref.upper(), alt.upper()
        if len(ref) != 1 or len(alt) != 1 or alt not in ALTS or ref == alt:
            return None, "not_snv"
        chrom = self._contig(chrom)
        if chrom is None:
            return None, "not_in_store"
        if not 1 <= pos <= self.contigs[chrom]:
            return None, "not_in_store"
        values = self._block(chrom, (pos - 1) // self.block)
        row = (pos - 1) % self.block
        stored_ref = int(values["ref"][row])
        if stored_ref == 0:
            return None, "not_in_store"
        if chr(stored_ref) != ref:
            return None, "ref_mismatch"
        a = ALTS.index(alt)
        summaries = []
        for slot, gene in enumerate(values["gene"][row]):
            if gene < 0:
                break
            gain, loss = values["gain"][row, a, slot], values["loss"][row, a, slot]
            if gain == NO_SCORE or loss == NO_SCORE:
                return None, "not_in_store"
            summaries.append(StoredSummary(self.gene_ids[gene], int(gain),
                                           int(values["gain_pos"][row, a, slot]), int(loss),
                                           int(values["loss_pos"][row, a, slot]), str(self.warnings[gene])))
        return summaries, None
