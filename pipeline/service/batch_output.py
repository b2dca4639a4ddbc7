"""A batch's answers as JSON, TSV (one row per variant and gene), or the VCF sent, annotated (a JSON or TSV
batch comes back as a VCF of its variants, `batch_input.as_vcf_batch`).

The VCF gets what the all-SNV export writes (`pipeline.snvs.export`): the official ``Pangolin=``
string and the typed fields of the highest-scoring gene, declared in the header, with the
provenance of the sources that answered. Typed fields have one value per record (``Number=1``, as
in the export), so a multi-allelic record gets ``Pangolin=`` with ``ALT/`` prefixes (as `score`
writes it) but no typed fields: split it with ``bcftools norm -m-`` first to have them.
"""

from __future__ import annotations

import re
from typing import Any

from ..snvs.export import TYPED_HEADER, typed_entries
from ..snvs.reader import StoredSummary
from ..variants.deltas import allele_value, fmt
from ..variants.output import INFO_HEADER, SKIP_HEADER, provenance_header, with_info
from .answers import Answer, GeneScore, InputProblem
from .batch_input import VCF_COLUMNS, Batch

Result = Answer | InputProblem
SOURCE_HEADER = ('##INFO=<ID=PangolinSource,Number=A,Type=String,Description="Where each ALT\'s Pangolin '
                 'answer came from: store (an all-SNV store) or model (computed); . when not answered">')
OUR_INFO = re.compile(r"^##INFO=<ID=Pangolin[A-Za-z0-9_]*,")
TSV_COLUMNS = ["variant", "chrom", "pos", "ref", "alt", "source", "store", "gene_id", "gene_name", "gain", "gain_pos",
               "loss", "loss_pos", "warning", "error"]


def as_json(batch: Batch, results: list[Result]) -> dict[str, Any]:
    rows = []
    for item, result in zip(batch.items, results):
        row = result.as_json() if isinstance(result, Answer) else _error(item.text, result)
        if item.line is not None:
            row["line"] = item.line
        rows.append(row)
    answered = sum(isinstance(r, Answer) for r in results)
    return {"results": rows, "counts": {"answered": answered, "errors": len(results) - answered}}


def _error(text: str, problem: InputProblem) -> dict[str, Any]:
    return {"variant": text[:200], "error": problem.message, "code": problem.code}


def as_tsv(batch: Batch, results: list[Result]) -> str:
    rows = [TSV_COLUMNS]
    for item, result in zip(batch.items, results):
        v = item.variant
        where = [item.text, *((v.chrom, str(v.pos), v.ref, v.alt) if v else ("",) * 4)]
        if isinstance(result, InputProblem):
            rows.append([*where, *[""] * 9, f"{result.code}: {result.message}"])
            continue
        origin = [result.source, result.store or ""]
        for g in result.genes or [None]:
            scores = ([g.gene_id, g.gene_name, fmt(g.gain), str(g.gain_pos), fmt(g.loss), str(g.loss_pos), g.warning]
                      if g else [""] * 7)
            rows.append([*where, *origin, *scores, ""])
    return "".join("\t".join(_clean(f) for f in row) + "\n" for row in rows)


def _clean(text: str) -> str:
    """No field may break the table: a tab or line break in a variant as sent becomes a space."""
    return re.sub(r"[\t\r\n]", " ", text)


def as_vcf(batch: Batch, results: list[Result], sources: list[dict[str, Any]], settings: dict[str, Any],
           lengths: dict[str, int]) -> str:
    """The VCF sent with the answers; ``sources`` describe the stores or model that answered,
    ``lengths`` the contig lengths they know (for ``##contig`` lines the input lacks)."""
    per_record: dict[int, list[Result]] = {}
    for item, result in zip(batch.items, results):
        per_record.setdefault(item.record, []).append(result)
    body = [with_info(_without_ours(record.fields), _entries(list(zip(record.alts, per_record.get(n, [])))))
            for n, record in enumerate(batch.records)]
    return "\n".join(_header(batch, sources, settings, lengths) + body) + "\n"


def _header(batch: Batch, sources: list[dict[str, Any]], settings: dict[str, Any],
            lengths: dict[str, int]) -> list[str]:
    kept = [line for line in batch.header[:-1] if not OUR_INFO.match(line)]
    if not kept or not kept[0].startswith("##fileformat="):
        kept.insert(0, "##fileformat=VCFv4.2")
    declared = {m.group(1) for line in kept if (m := re.match(r"##contig=<ID=([^,>]+)", line))}
    used = dict.fromkeys(r.chrom for r in batch.records)
    contigs = [f"##contig=<ID={c},length={lengths[c]}>" for c in used if c not in declared and c in lengths]
    served = [f"##pangolinServedBy=<ID={s['name']},Kind={s['kind']},Build={s['build']},"
              f"Reference=sha256:{s['reference_sha256']},Annotation=sha256:{s['annotation_sha256']},"
              f"Weights=sha256:{s['weights_sha256']},Ensemble={s['ensemble']}>" for s in sources]
    chrom_line = batch.header[-1] if len(batch.header[-1].split("\t")) > 8 else VCF_COLUMNS
    shown = {k: "any" if v is None else v for k, v in settings.items()}
    return [*kept, *contigs, *provenance_header({"settings": shown}), *served, INFO_HEADER, SKIP_HEADER,
            *TYPED_HEADER, SOURCE_HEADER, chrom_line]


def _without_ours(fields: list[str]) -> list[str]:
    """A record's columns without Pangolin INFO entries from an earlier annotation (they would repeat)."""
    if len(fields) < 8 or "Pangolin" not in fields[7]:
        return fields
    kept = [e for e in fields[7].split(";") if not re.match(r"Pangolin[A-Za-z0-9_]*(=|$)", e)]
    return [*fields[:7], ";".join(kept) or ".", *fields[8:]]


def _entries(alleles: list[tuple[str, Result]]) -> list[str]:
    multi = len(alleles) > 1
    values, skipped, origins = [], [], []
    for alt, result in alleles:
        if isinstance(result, Answer) and result.genes:
            values.append(allele_value(alt, result.info, multi))
            origins.append(result.source)
            continue
        reason = "not_in_gene" if isinstance(result, Answer) else result.code
        skipped.append(f"{alt}/{reason}" if multi else reason)
        origins.append(result.source if isinstance(result, Answer) else ".")
    entries = [f"Pangolin={','.join(values)}"] if values else []
    if values and not multi:
        entries += typed_entries([_summary(g) for g in alleles[0][1].genes])[0]
    if skipped:
        entries.append(f"PangolinSkipped={','.join(skipped)}")
    return entries + ([f"PangolinSource={','.join(origins)}"] if alleles else [])


def _summary(gene: GeneScore) -> StoredSummary:
    """A gene's answer in the store's hundredths, the form the export's typed fields are made from."""
    return StoredSummary(gene.gene_id, round(gene.gain * 100), gene.gain_pos, round(gene.loss * 100), gene.loss_pos,
                         gene.warning)
