"""Answering SNVs from an all-SNV store alone: `lookup` strings and VCF annotation, no model, no FASTA."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

from ..errors import VariantError
from ..outputs import OutputFile
from ..variants.deltas import allele_value, stored_value
from ..variants.output import ChunkResult, VariantOutput
from ..variants.records import parse_variant, read_vcf
from .reader import SnvReader

REASONS = {"not_in_store": "contig or position not in the store (outside its regions)",
           "ref_mismatch": "REF differs from the store's reference base", "not_snv": "not a single-base substitution",
           "malformed": "not CHROM:POS:REF:ALT with REF and ALT of A, C, G, T, N"}


def info_value(reader: SnvReader, chrom: str, pos: int, ref: str, alt: str) -> tuple[str | None, str | None]:
    """(the INFO value `score` writes, None) or (None, reason)."""
    summaries, reason = reader.lookup(chrom, pos, ref, alt)
    if summaries is None:
        return None, reason
    return stored_value(summaries), None


def lookup_strings(reader: SnvReader, snvs: list[str]) -> list[tuple[str, str | None, str | None]]:
    """Per ``chr:pos:ref:alt`` string: (string, INFO value or None, reason or None)."""
    rows = []
    for text in snvs:
        try:
            chrom, pos, ref, alt = parse_variant(text)
        except VariantError:
            rows.append((text, None, "malformed"))
            continue
        rows.append((text, *info_value(reader, chrom, pos, ref, alt)))
    return rows


def store_provenance(reader: SnvReader) -> dict:
    """What an all-SNV store's answers depend on, for the header of a VCF made from it."""
    identity, inputs = reader.identity, reader.root.attrs.get("inputs", {})
    settings = {k: "|".join(v) if isinstance(v, list) else v for k, v in identity.settings.items()}
    return {"reference": f"{Path(inputs.get('fasta', '?')).name} sha256:{identity.reference['digest']}",
            "annotation": f"{Path(inputs.get('annotation', '?')).name} sha256:{identity.annotation['digest']}",
            "settings": settings, "ensemble": f"{identity.ensemble} dtype={identity.compute_dtype}",
            "checkpoints": identity.checkpoints, "snvStore": reader.path.name}


def annotate_vcf(reader: SnvReader, vcf: Path, out: str | Path | OutputFile, batch: int = 10_000,
                 on_records: Callable[[int], None] | None = None,
                 on_chunk: Callable[[int], None] | None = None, skip_malformed: bool = False) -> Counter:
    """Copy ``vcf`` to ``out`` with ``Pangolin=`` for every SNV the store holds and ``PangolinSkipped=``
    (with the reason) for the rest; return counts by outcome."""
    header, records = read_vcf(vcf, skip_malformed)
    counts: Counter = Counter()
    if on_records:
        on_records(len(records))
    with VariantOutput(out, records, header, None, provenance=store_provenance(reader)) as output:
        for first in range(0, len(records), batch):
            result = ChunkResult()
            for index in range(first, min(first + batch, len(records))):
                record = records[index]
                multi = len(record.alts) > 1
                for alt in record.alts:
                    value, reason = info_value(reader, record.chrom, record.pos, record.ref, alt)
                    if value is not None:
                        result.values[index].append(allele_value(alt.upper(), value, multi))  # as `score`
                    else:
                        result.skipped[index].append(f"{alt}/{reason}" if multi else reason)
                    result.counts[reason or "from_store"] += 1
            output.add(first, min(batch, len(records) - first), result)
            counts.update(result.counts)
            if on_chunk:
                on_chunk(min(batch, len(records) - first))
    return counts
