"""Export an all-SNV store as a VCF: one record per SNV, sorted, with the official ``Pangolin=`` string,
typed numeric fields that bcftools, vcfanno and VEP filter on, and the store's provenance.

Typed fields describe the highest-scoring gene (largest |gain| or |loss|; the first in the official
order on ties): ``PangolinGene``, ``PangolinGain`` / ``PangolinLoss`` (loss <= 0) with their offsets,
and ``PangolinLargestDS``, the signed larger of the two as gnomAD's ``pangolin_largest_ds``. A store
made with ``--per-tissue`` adds ``Pangolin_{tissue}_{stat}`` (unmasked P(splice)/usage gain and loss).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..model.config import TISSUES
from ..outputs import OutputFile
from ..store.labels import ALTS, STATS
from ..store.manifest import Manifest
from ..variants.deltas import fmt, stored_value
from ..variants.output import INFO_HEADER, provenance_header
from .annotate import store_provenance
from .reader import SnvReader, StoredSummary

TYPED_HEADER = [
    '##INFO=<ID=PangolinGene,Number=1,Type=String,Description="Gene of the typed Pangolin fields: the one with '
    'the largest |gain| or |loss|">',
    '##INFO=<ID=PangolinGain,Number=1,Type=Float,Description="Pangolin splice gain (largest P(splice) increase) '
    'in PangolinGene">',
    '##INFO=<ID=PangolinGainPos,Number=1,Type=Integer,Description="Offset of PangolinGain from the variant, bases">',
    '##INFO=<ID=PangolinLoss,Number=1,Type=Float,Description="Pangolin splice loss (largest P(splice) decrease, '
    '<= 0) in PangolinGene">',
    '##INFO=<ID=PangolinLossPos,Number=1,Type=Integer,Description="Offset of PangolinLoss from the variant, bases">',
    '##INFO=<ID=PangolinLargestDS,Number=1,Type=Float,Description="PangolinGain or PangolinLoss, whichever is '
    'larger in magnitude, signed (as gnomAD pangolin_largest_ds)">',
]


def tissue_fields() -> list[str]:
    return [f"Pangolin_{tissue}_{stat}" for tissue in TISSUES for stat in STATS]


def tissue_header() -> list[str]:
    return [f'##INFO=<ID={name},Number=1,Type=Float,Description="Pangolin {name[9:].replace("_", " ")} '
            f'(unmasked) in PangolinGene">' for name in tissue_fields()]


def typed_entries(summaries: list[StoredSummary]) -> tuple[list[str], int]:
    """The typed INFO entries of one SNV, and the slot of the gene they describe."""
    slot = max(range(len(summaries)), key=lambda k: (max(summaries[k].gain, -summaries[k].loss), -k))
    top = summaries[slot]
    largest = top.gain if top.gain >= -top.loss else top.loss
    return [f"PangolinGene={top.gene_id}", f"PangolinGain={fmt(top.gain / 100)}", f"PangolinGainPos={top.gain_pos}",
            f"PangolinLoss={fmt(top.loss / 100)}", f"PangolinLossPos={top.loss_pos}",
            f"PangolinLargestDS={fmt(largest / 100)}"], slot


def export_vcf(reader: SnvReader, out: OutputFile, on_chrom: Callable[[str, int], None] | None = None) -> int:
    """Write every stored SNV to ``out`` (``.vcf``, ``.vcf.gz`` or ``.bcf``; indexed if ``out.index``),
    sorted by position; return the number of records."""
    per_tissue = "tissue_delta" in reader.root[next(iter(reader.contigs))]
    header = ["##fileformat=VCFv4.2", *provenance_header(store_provenance(reader))]
    header += [f"##contig=<ID={chrom},length={length}>" for chrom, length in reader.contigs.items()]
    header += [INFO_HEADER, *TYPED_HEADER, *(tissue_header() if per_tissue else [])]
    n = 0
    tiles = Manifest(reader.path).tiles()
    with out.open() as handle:
        handle.write("\n".join(header) + "\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        for chrom in reader.contigs:
            for tile in sorted((t for t in tiles if t.chrom == chrom), key=lambda t: t.start):
                refs = reader.root[f"{chrom}/ref"][tile.start : tile.end]
                deltas = reader.root[f"{chrom}/tissue_delta"][tile.start : tile.end] if per_tissue else None
                for row in np.flatnonzero(refs):
                    n += _write_position(handle, reader, chrom, tile.start + row + 1, chr(int(refs[row])),
                                         None if deltas is None else deltas[row])
            if on_chrom:
                on_chrom(chrom, n)
    return n


def _write_position(handle, reader: SnvReader, chrom: str, pos: int, ref: str, deltas: np.ndarray | None) -> int:
    """The records of the three SNVs at ``pos``; ``deltas`` (alt, slot, tissue, stat) with --per-tissue."""
    written = 0
    for a, alt in enumerate(ALTS):
        if alt == ref:
            continue
        summaries, _ = reader.lookup(chrom, pos, ref, alt)
        if summaries is None:
            continue
        value = stored_value(summaries)
        entries, slot = typed_entries(summaries)
        if deltas is not None:
            values = deltas[a, slot].reshape(-1)
            entries += [f"{name}={_float(v)}" for name, v in zip(tissue_fields(), values)]
        handle.write(f"{chrom}\t{pos}\t.\t{ref}\t{alt}\t.\t.\tPangolin={value};{';'.join(entries)}\n")
        written += 1
    return written


def _float(value: np.floating) -> str:
    """A stored value as the shortest text that reads back to it in its dtype ('.' where missing)."""
    return "." if np.isnan(value) else np.format_float_positional(value, unique=True, trim="-")
