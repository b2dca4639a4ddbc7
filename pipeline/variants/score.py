"""Scoring a VCF or CSV: the official `pangolin` command's semantics, batched, its defects fixed.

Per allele and per strand with an overlapping gene: reference and alternative P(splice) from
the official 12-network ensemble within ``distance`` of the variant, aligned as the official code
aligns indels, alt minus ref per tissue, gain = max and loss = min over tissues, masked per gene.
Reference scores are computed once per cluster of nearby variants (or read from a store);
alternative sequences are scored in batches.

Fixed relative to the official tool: masking works on a copy per gene (no leak between genes);
a variant on a gene's first base belongs to the gene; lowercase reference bases match; every ALT
is scored; variants near contig ends are scored with N padding; no input line is lost.
"""

from __future__ import annotations

import warnings
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ..errors import ContigNotFound, VariantError
from ..genome.annotation import GeneFilter, read_genes
from ..genome.contigs import match_contig
from ..genome.encode import one_hot
from ..genome.fasta import Reference
from ..model import Ensemble
from . import deltas
from .records import Record, read_csv, read_vcf

MAX_REGION = 60_000  # output bases per shared reference pass (bounds cached activations)
P_SPLICE = [1, 4, 7, 10]
USAGE = [2, 5, 8, 11]
INFO_HEADER = ('##INFO=<ID=Pangolin,Number=.,Type=String,Description="Pangolin splice scores. '
               'Format: gene|pos:score_change|pos:score_change|warnings,...">')
SKIP_HEADER = ('##INFO=<ID=PangolinSkipped,Number=.,Type=String,Description="Why pangolin-pipeline '
               'did not score this record (ALT/reason for multi-allelic records)">')
SKIP_REASONS = {
    "malformed_line": "fewer than 5 columns",
    "malformed_position": "POS is not a positive integer",
    "unsupported_shape": "REF/ALT without A/C/G/T, symbolic, or neither SNV, MNV nor a 1-base-anchored indel",
    "deletion_too_long": "REF longer than 2 x distance",
    "unknown_contig": "contig not in the FASTA",
    "ref_mismatch": "REF does not match the FASTA",
    "not_in_gene": "no annotated gene body contains the variant",
}


@dataclass(frozen=True)
class ScoreOptions:
    distance: int = 50
    mask: bool = True
    score_cutoff: float | None = None
    score_exons: bool = False
    tags: tuple[str, ...] = ("Ensembl_canonical",)  # transcripts whose exons mask; all if none is tagged
    column_ids: str = "CHROM,POS,REF,ALT"


@dataclass
class Allele:
    """One ALT of one record, ready to score on the strands of its genes."""

    record: int
    alt_index: int
    chrom: str
    pos: int  # 1-based
    ref: str
    alt: str
    context: str  # reference sequence: distance + 5,000 bases either side of REF
    genes: pd.DataFrame
    ref_scores: dict | None = None  # strand -> (12, len(ref) + 2d)
    alt_scores: dict | None = None


def load_genes(annotation: str | Path, options: ScoreOptions) -> pd.DataFrame:
    """Gene bodies with the exons of the masking transcripts (tagged ones, else all)."""
    genes = read_genes(annotation)
    if options.tags:
        try:
            tagged = read_genes(annotation, GeneFilter(tags=options.tags, tags_drop_genes=False))
        except Exception:  # no transcript carries the tag: the official db would keep all
            tagged = None
        if tagged is not None and any(len(e) for e in tagged.exon_starts):
            genes = tagged
    return genes


def cluster_spans(spans: list[tuple[int, int]], gap: int, max_len: int) -> list[tuple[int, int]]:
    """Regions covering ``spans``: spans less than ``gap`` apart share a region of at most
    ``max_len`` bases (a single longer span gets its own region)."""
    regions: list[list[int]] = []
    for start, end in sorted(spans):
        if regions and start - regions[-1][1] < gap and max(end, regions[-1][1]) - regions[-1][0] <= max_len:
            regions[-1][1] = max(regions[-1][1], end)
        else:
            regions.append([start, end])
    return [(s, e) for s, e in regions]


def _shape_problem(ref: str, alt: str, d: int) -> str | None:
    bases = set("ACGT")
    if not bases & set(ref) or not bases & set(alt) or (len(ref) != 1 and len(alt) != 1 and len(ref) != len(alt)):
        return "unsupported_shape"
    if len(ref) > 2 * d:
        return "deletion_too_long"
    return None


class VariantScorer:
    """Holds the tools (ensemble, FASTA, genes) and turns records into INFO values and table rows."""

    def __init__(self, ensemble: Ensemble, reference: Reference, genes: pd.DataFrame, options: ScoreOptions,
                 store: str | Path | None = None):
        self.ensemble, self.reference, self.options = ensemble, reference, options
        self.d = options.distance
        self.flank = ensemble.context // 2
        self.genes = genes
        self.genes_by_chrom = {c: g for c, g in genes.groupby("chrom")}
        self.store_reader = _StoreReference(store, ensemble, reference) if store else None

    # -- preparing alleles -------------------------------------------------------------------
    def _genes_at(self, chrom: str, pos: int) -> pd.DataFrame:
        try:
            key = match_contig(chrom, self.genes_by_chrom, "the annotation")
        except ContigNotFound:
            return self.genes.iloc[:0]
        genes = self.genes_by_chrom[key]
        hits = genes[(genes.start < pos) & (genes.end >= pos)]  # 0-based start: pos is inside
        return hits.sort_values(["strand", "start"])  # "+" sorts before "-": plus-strand genes first, as the official

    def prepare(self, index: int, record: Record) -> tuple[list[Allele], list[tuple[int, str]]]:
        """Alleles to score, and (alt index, reason) for those that cannot be scored."""
        if record.error:
            return [], [(-1, record.error)]
        try:
            chrom = self.reference.resolve(record.chrom)
        except ContigNotFound:
            return [], [(-1, "unknown_contig")]
        d, ref = self.d, record.ref.upper()
        alleles, skipped = [], []
        context = None
        for k, alt in enumerate(record.alts):
            alt = alt.upper()
            problem = _shape_problem(ref, alt, d)
            if problem is None:
                if context is None:
                    start = record.pos - 1 - d - self.flank
                    context = self.reference.fetch(chrom, start, record.pos - 1 + len(ref) + d + self.flank)
                if context[self.flank + d : self.flank + d + len(ref)].upper() != ref:
                    problem = "ref_mismatch"
            genes = self._genes_at(record.chrom, record.pos) if problem is None else None
            if problem is None and genes.empty:
                problem = "not_in_gene"
            if problem:
                skipped.append((k, problem))
            else:
                alleles.append(Allele(index, k, chrom, record.pos, ref, alt, context, genes))
        return alleles, skipped

    # -- computing scores --------------------------------------------------------------------
    def compute(self, alleles: list[Allele]) -> None:
        """Fill ``ref_scores`` and ``alt_scores`` of every allele (batched)."""
        self._compute_ref(alleles)
        self._compute_alt(alleles)

    def _compute_ref(self, alleles: list[Allele]) -> None:
        """Reference scores per region of nearby variants; substitutions get their alternative
        scores in the same pass (cone of influence, fast engine)."""
        d, flank = self.d, self.flank
        by_strand: dict[tuple[str, str], list[Allele]] = defaultdict(list)
        for a in alleles:
            a.ref_scores, a.alt_scores = {}, {}
            for strand in a.genes.strand.unique():
                by_strand[(a.chrom, strand)].append(a)
        for (chrom, strand), members in by_strand.items():
            spans = [(a.pos - 1 - d, a.pos - 1 + len(a.ref) + d) for a in members]
            for start, end in cluster_spans(spans, self.ensemble.context, MAX_REGION):
                inside = [a for a, (lo, hi) in zip(members, spans) if start <= lo and hi <= end]
                onehot = one_hot(self.reference.fetch(chrom, start - flank, end + flank))
                fast = self.ensemble.engine == "fast"
                substitutions = [a for a in inside if len(a.ref) == len(a.alt)] if fast else []
                groups = defaultdict(list)
                for a in substitutions:
                    groups[len(a.alt)].append(a)
                if groups:
                    batches = [(np.array([a.pos - 1 - start + flank for a in g]), np.stack([one_hot(a.alt) for a in g]))
                               for g in groups.values()]
                    scores, alts = self.ensemble.score_substitutions(onehot, batches, d, strand)
                    for group, values in zip(groups.values(), alts):
                        for a, v in zip(group, values):
                            a.alt_scores[strand] = v.T
                else:
                    scores = None
                stored = self.store_reader.read(chrom, strand, start, end) if self.store_reader else None
                if stored is not None:
                    scores = stored.T
                elif scores is None:
                    scores = self.ensemble.score_onehot(onehot, strand)
                for a in inside:
                    lo = a.pos - 1 - d - start
                    a.ref_scores[strand] = scores[lo : lo + len(a.ref) + 2 * d].T

    def _compute_alt(self, alleles: list[Allele]) -> None:
        """Full alternative passes, batched, for alleles the reference pass did not cover (indels)."""
        d, flank = self.d, self.flank
        groups: dict[tuple[str, int], list[Allele]] = defaultdict(list)
        for a in alleles:
            for strand in a.genes.strand.unique():
                if strand not in a.alt_scores:
                    groups[(strand, len(a.alt))].append(a)
        for (strand, _), members in groups.items():
            batch = []
            for a in members:
                seq = a.context[: flank + d] + a.alt + a.context[flank + d + len(a.ref) :]
                x = one_hot(seq)
                batch.append(x[::-1, ::-1] if strand == "-" else x)
            scores = self.ensemble.score_batch(np.ascontiguousarray(np.stack(batch)))
            for a, s in zip(members, scores):
                a.alt_scores[strand] = (s[::-1] if strand == "-" else s).T

    # -- summaries -----------------------------------------------------------------------------
    def aligned_alt(self, a: Allele, strand: str) -> np.ndarray:
        """(12, len(ref) + 2d) alternative scores on the reference's positions (official indel alignment)."""
        return deltas.align_alt(a.alt_scores[strand], len(a.ref), len(a.alt), self.d)

    def deltas(self, a: Allele, strand: str) -> np.ndarray:
        """(12, len(ref) + 2d) alt - ref."""
        return self.aligned_alt(a, strand) - a.ref_scores[strand]

    def info_value(self, a: Allele) -> str:
        bundles = []
        for _, gene in a.genes.iterrows():
            delta = self.deltas(a, gene.strand)[P_SPLICE]
            gain, loss = deltas.gain_loss(delta)
            sites = np.empty(2 * len(gene.exon_starts), dtype=np.int64)
            sites[0::2], sites[1::2] = gene.exon_starts + 1, gene.exon_ends  # 1-based boundaries
            sites -= a.pos - self.d
            warning = ""
            if self.options.mask:
                gain, loss, warning = deltas.mask(gain, loss, sites)
            bundles.append(deltas.gene_field(gene.gene_id, gain, loss, sites, self.d, self.options.score_cutoff,
                                             self.options.score_exons, warning))
        return ",".join(bundles)

    def table_rows(self, a: Allele, record: Record) -> list[dict]:
        rows = []
        tissues = self.ensemble.config.tissues
        for _, gene in a.genes.iterrows():
            aligned_alt = self.aligned_alt(a, gene.strand)
            delta = aligned_alt - a.ref_scores[gene.strand]
            for t, tissue in enumerate(tissues):
                row = {"chrom": record.chrom, "pos": a.pos, "ref": record.ref, "alt": record.alts[a.alt_index],
                       "gene_id": gene.gene_id, "gene_name": gene.gene_name, "strand": gene.strand, "tissue": tissue}
                for metric, channel in (("p_splice", P_SPLICE[t]), ("usage", USAGE[t])):
                    values = delta[channel]
                    for kind, where in (("gain", int(np.argmax(values))), ("loss", int(np.argmin(values)))):
                        row[f"{metric}_{kind}"] = float(values[where])
                        row[f"{metric}_{kind}_pos"] = where - self.d
                        row[f"{metric}_{kind}_ref"] = float(a.ref_scores[gene.strand][channel, where])
                        row[f"{metric}_{kind}_alt"] = float(aligned_alt[channel, where])
                rows.append(row)
        return rows


class _StoreReference:
    """Reference scores read from a precomputed store made with the same ensemble and reference."""

    def __init__(self, path: str | Path, ensemble: Ensemble, reference: Reference):
        from ..store import open_chrom, read_identity

        identity = read_identity(Path(path))
        if identity["ensemble"] != ensemble.name or identity["checkpoints"] != ensemble.checksums:
            raise VariantError(f"store {path} was made with ensemble {identity['ensemble']}, not {ensemble.name}")
        if identity["reference"]["digest"] != reference.digest():
            raise VariantError(f"store {path} was made from another reference FASTA than {reference.path}")
        if identity["dtype"] != "float32":
            warnings.warn(f"store {path} holds {identity['dtype']} scores: deltas may differ from a fresh "
                          "float32 computation by up to 1e-3", stacklevel=3)
        self.path, self.open_chrom = path, open_chrom
        self.cache: dict[str, object] = {}

    def read(self, chrom: str, strand: str, start: int, end: int) -> np.ndarray | None:
        """(12, end - start) with P(splice) and usage filled, or None if any base is unscored."""
        if chrom not in self.cache:
            try:
                self.cache[chrom] = self.open_chrom(self.path, chrom)
            except (KeyError, FileNotFoundError, ValueError):
                self.cache[chrom] = None
        ds = self.cache[chrom]
        if ds is None or start < 0 or end > ds.sizes["position"]:
            return None
        window = dict(position=slice(start, end))
        p = ds.p_splice.sel(strand=strand).isel(**window).values.astype(np.float32)
        if np.isnan(p).any():
            return None
        out = np.zeros((12, end - start), dtype=np.float32)
        out[P_SPLICE] = p.T
        out[USAGE] = ds.usage.sel(strand=strand).isel(**window).values.astype(np.float32).T
        return out


def _with_info(fields: list[str], entries: list[str]) -> str:
    fields = list(fields) + ["."] * max(0, 8 - len(fields))
    info = fields[7]
    fields[7] = ";".join(([] if info in (".", "") else [info]) + entries)
    return "\t".join(fields)


@dataclass(frozen=True)
class ScorerSpec:
    """How to build a `VariantScorer`: small and hashable, so it travels to Dask workers, each of
    which builds its scorer once (`cached_scorer`)."""

    fasta: str
    annotation: str
    options: ScoreOptions = ScoreOptions()
    weights: str | None = None
    dtype: str = "float32"
    device: str = "cpu"
    store: str | None = None
    threads: int | None = None

    def build(self) -> VariantScorer:
        from ..model import load_ensemble

        if self.threads:
            torch.set_num_threads(self.threads)
        ensemble = load_ensemble("official", self.weights, device=self.device, dtype=self.dtype)
        return VariantScorer(ensemble, Reference(self.fasta), load_genes(self.annotation, self.options), self.options,
                             self.store)


@lru_cache(maxsize=1)
def cached_scorer(spec: ScorerSpec) -> VariantScorer:
    return spec.build()


@dataclass
class ChunkResult:
    """Scores of a run of records, keyed by record index."""

    values: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    skipped: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    counts: Counter = field(default_factory=Counter)
    rows: list[dict] = field(default_factory=list)


def score_chunk(scorer: VariantScorer | ScorerSpec, chunk: list[tuple[int, Record]], table: bool) -> ChunkResult:
    """Score records (index, record) together, sharing reference passes between nearby ones."""
    if isinstance(scorer, ScorerSpec):
        scorer = cached_scorer(scorer)
    result = ChunkResult()
    records = dict(chunk)
    alleles = []
    for index, record in chunk:
        ok, bad = scorer.prepare(index, record)
        alleles += ok
        multi = len(record.alts) > 1
        for k, reason in bad:
            result.skipped[index].append(f"{record.alts[k]}/{reason}" if multi and k >= 0 else reason)
            result.counts[reason] += 1
    scorer.compute(alleles)
    for a in alleles:
        value = scorer.info_value(a)
        multi = len(records[a.record].alts) > 1
        result.values[a.record].append(f"{a.alt}/{value.replace(',', f',{a.alt}/')}" if multi else value)
        result.counts["scored"] += 1
        if table:
            result.rows += scorer.table_rows(a, records[a.record])
    return result


def score_variants(variants: str | Path, scorer: VariantScorer | ScorerSpec, out: str | Path,
                   table: str | Path | None = None, batch: int = 256, client=None,
                   on_records: Callable[[int], None] | None = None,
                   on_chunk: Callable[[int], None] | None = None) -> Counter:
    """Score a VCF (or CSV) into ``out``, optionally a per-tissue table; return counts by outcome.

    Records go in runs of ``batch`` (file order keeps nearby variants together) to the scorer here,
    or, given a Dask ``client`` and a `ScorerSpec`, to its workers. Output keeps the input order.
    """
    variants, out = Path(variants), Path(out)
    is_csv = variants.suffix.lower() == ".csv"
    if is_csv:
        frame, records = read_csv(variants, scorer.options.column_ids)
        header = None
    else:
        header, records = read_vcf(variants)
        records = list(records)
    chunks = [list(enumerate(records[b : b + batch], start=b)) for b in range(0, len(records), batch)]
    if on_records:
        on_records(len(records))
    if client is None:
        results = ((n, score_chunk(scorer, chunk, bool(table))) for n, chunk in enumerate(chunks))
    else:
        from distributed import as_completed

        if not isinstance(scorer, ScorerSpec):
            raise TypeError("scoring on Dask workers needs a ScorerSpec")
        futures = {client.submit(score_chunk, scorer, chunk, bool(table), pure=False, retries=2): n
                   for n, chunk in enumerate(chunks)}
        results = ((futures[future], future.result()) for future in as_completed(futures))
    merged, rows = ChunkResult(), {}
    for n, result in results:
        merged.values.update(result.values)
        merged.skipped.update(result.skipped)
        merged.counts.update(result.counts)
        rows[n] = result.rows
        if on_chunk:
            on_chunk(len(chunks[n]))
    _write_output(out, header, records, merged.values, merged.skipped, is_csv, frame if is_csv else None)
    if table:
        _write_table(Path(table), [row for n in sorted(rows) for row in rows[n]])
    return merged.counts


def _write_output(out, header, records, values, skipped, is_csv, frame) -> None:
    if is_csv:
        column = [",".join(values[i]) if values[i] else "" for i in range(len(records))]
        frame.assign(Pangolin=column).to_csv(out, index=False)
        return
    with open(out, "w") as handle:
        for line in header[:-1]:
            handle.write(line + "\n")
        handle.write(INFO_HEADER + "\n" + SKIP_HEADER + "\n" + header[-1] + "\n")
        for i, record in enumerate(records):
            entries = []
            if values[i]:
                entries.append("Pangolin=" + ",".join(values[i]))
            if skipped[i]:
                entries.append("PangolinSkipped=" + ",".join(skipped[i]))
            handle.write(_with_info(record.fields, entries) + "\n")


def _write_table(path: Path, rows: list[dict]) -> None:
    frame = pd.DataFrame(rows)
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, sep="\t", index=False, float_format="%.6g")
