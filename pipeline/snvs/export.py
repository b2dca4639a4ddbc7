"""Export an all-SNV store as a VCF: one record per SNV, official INFO, sorted, bgzipped, tabix-indexed."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pysam

from ..errors import StoreError
from ..store.manifest import Manifest
from ..store.snv_layout import ALTS
from ..store.snv_reader import SnvReader
from ..variants.output import INFO_HEADER
from .annotate import info_value


def export_vcf(reader: SnvReader, out: Path, on_chrom: Callable[[str, int], None] | None = None) -> int:
    """Write every stored SNV to ``out`` (``.vcf.gz``, with ``.tbi``); return the number of records."""
    if not str(out).endswith(".vcf.gz"):
        raise StoreError(f"--out {out} must end in .vcf.gz (bgzipped and tabix-indexed)")
    plain = out.with_name(out.name[: -len(".gz")])
    settings = reader.settings
    n = 0
    with open(plain, "w") as handle:
        handle.write("##fileformat=VCFv4.2\n")
        handle.write(f"##source=pangolin-pipeline all-SNV store {reader.path.name}: distance={settings['distance']} "
                     f"mask={settings['mask']} regions={settings['regions']}\n")
        for chrom, length in reader.contigs.items():
            handle.write(f"##contig=<ID={chrom},length={length}>\n")
        handle.write(INFO_HEADER + "\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        tiles = Manifest(reader.path).tiles()
        for chrom in reader.contigs:
            ref_array = reader.root[f"{chrom}/ref"]
            for tile in sorted((t for t in tiles if t.chrom == chrom), key=lambda t: t.start):
                start = tile.start
                refs = ref_array[tile.start : tile.end]
                for row in np.flatnonzero(refs):
                    ref = chr(int(refs[row]))
                    for alt in ALTS:
                        if alt == ref:
                            continue
                        value, _ = info_value(reader, chrom, start + row + 1, ref, alt)
                        if value is not None:
                            handle.write(f"{chrom}\t{start + row + 1}\t.\t{ref}\t{alt}\t.\t.\tPangolin={value}\n")
                            n += 1
            if on_chrom:
                on_chrom(chrom, n)
    pysam.tabix_index(str(plain), preset="vcf", force=True)  # bgzips to out, removes plain, writes out.tbi
    if plain.exists():
        os.remove(plain)
    return n
