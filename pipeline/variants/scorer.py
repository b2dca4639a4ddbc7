"""The variant scorer: alleles -> reference and alternative scores -> official summaries and table rows.

Per allele and per strand with an overlapping gene: reference and alternative P(splice) from the
official 12-network ensemble within ``distance`` of the variant, aligned as the official code
aligns indels, alt minus ref per tissue, gain = max and loss = min over tissues, masked per gene.
Reference scores are computed once per cluster of nearby variants (or read from a store);
substitutions get their alternative scores in the same pass (cone of influence); indels are
scored in batches of full alternative passes.

Fixed relative to the official tool: masking works on a copy per gene (no leak between genes);
a variant on a gene's first base belongs to the gene; lowercase reference bases match; every ALT
is scored; variants near contig ends are scored with N padding.
"""

from __future__ import annotations

import sys
import warnings
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ContigNotFound, WeightsError
from ..genome.annotation import read_genes
from ..genome.contigs import match_contig
from ..genome.encode import one_hot, reverse_complement_onehot
from ..genome.fasta import Reference
from ..genome.gene_table import annotated_sites, tagged_genes
from ..model import Ensemble
from ..model.config import TISSUES, ModelConfig
from ..model.spec import ModelSpec
from ..precompute.tiling import merge_intervals
from ..snvs.reader import SnvReader
from . import deltas
from .records import Record

MAX_REGION = 60_000  # output bases per shared reference pass (bounds cached activations)
MODEL = ModelConfig()
P_SPLICE, USAGE = MODEL.p_splice_channels, MODEL.usage_channels
SKIP_REASONS = {
    "malformed_line": "fewer than 5 columns",
    "malformed_position": "POS is not a positive integer",
    "unsupported_shape": "REF/ALT without A/C/G/T, symbolic, or neither SNV, MNV nor a 1-base-anchored indel",
    "deletion_too_long": "REF longer than 2 x distance",
    "unknown_contig": "contig not in the FASTA",
    "outside_contig": "POS (or REF's last base) past the end of its contig in the FASTA",
    "ref_mismatch": "REF does not match the FASTA",
    "not_in_gene": "no annotated gene body contains the variant",
}


class DefaultTags(tuple):
    """The masking tags when the user names none. Equal to the plain tuple; its type tells `mask_tags`
    that it may use MANE Select instead where the annotation has no Ensembl_canonical transcript."""


DEFAULT_TAGS = DefaultTags(("Ensembl_canonical",))
MANE_SELECT = ("MANE_Select", "MANE Select")  # the Ensembl/GENCODE GTF and the NCBI GFF3 spellings


@dataclass(frozen=True)
class ScoreOptions:
    distance: int = 50
    mask: bool = True
    score_cutoff: float | None = None
    score_exons: bool = False
    tags: tuple[str, ...] = DEFAULT_TAGS  # transcripts whose exons mask (see `mask_tags`); () all
    column_ids: str = "CHROM,POS,REF,ALT"


@dataclass(frozen=True)
class Allele:
    """One ALT of one record, ready to score on the strands of its genes."""

    record: int
    alt_index: int
    chrom: str
    pos: int  # 1-based
    ref: str
    alt: str
    context: str  # reference sequence: distance + 5,000 bases either side of REF
    genes: pd.DataFrame  # official order: plus-strand genes first, then by start

    @property
    def strands(self) -> list[str]:
        return list(dict.fromkeys(self.genes.strand))


# (12, len(ref) + 2d) reference and alternative scores of one allele on one strand, genome order
Scores = dict[str, tuple[np.ndarray, np.ndarray]]


def _masking(annotation: str, tags: tuple[str, ...]) -> tuple[tuple[str, ...], pd.DataFrame | None]:
    """`mask_tags`, with the gene table of those tags (None for every transcript)."""
    if tags:
        tagged = tagged_genes(annotation, tags)
        if tagged is not None:
            return tuple(tags), tagged
    if isinstance(tags, DefaultTags):
        for mane in MANE_SELECT:
            tagged = tagged_genes(annotation, (mane,))
            if tagged is not None:
                return (mane,), tagged
    return (), None


def mask_tags(annotation: str, tags: tuple[str, ...]) -> tuple[str, ...]:
    """The tags whose transcripts' exons mask, as `load_genes` uses them: ``tags`` if some exon
    belongs to such a transcript, else () (every transcript, as the official db builder). The default
    (`DEFAULT_TAGS`) becomes MANE Select in an annotation without Ensembl_canonical transcripts (a
    MANE GTF or GFF3) where it has MANE Select ones."""
    return _masking(annotation, tags)[0]


def _say_masking(annotation: str, asked: tuple[str, ...], used: tuple[str, ...], genes: pd.DataFrame) -> None:
    """One line where the masking transcripts are not the ones asked for (or the default names)."""
    name = Path(annotation).name
    if isinstance(asked, DefaultTags) and used and used != tuple(asked):
        print(f"note: masking with {used[0]} transcripts ({name} has no {'/'.join(asked)} tag)", file=sys.stderr)
    elif asked and not used and any(len(e) for e in genes.exon_starts):  # without exons no tag matters
        also = f" or {' or '.join(MANE_SELECT)}" if isinstance(asked, DefaultTags) else ""
        warnings.warn(f"no transcript in {name} is tagged {' or '.join(asked)}{also}: the exons of every "
                      "transcript mask (--mask-tags names others)", stacklevel=3)


def load_genes(annotation: str, options: ScoreOptions) -> pd.DataFrame:
    """Gene bodies with the exons of the masking transcripts (`mask_tags`: tagged ones, else all).

    Says once where these are not the ones asked for: a note where the default became MANE Select, a
    warning where no transcript has the tags asked for (every transcript then masks). The tags used
    are in the table's ``attrs["mask_tags"]``.
    """
    used, genes = _masking(annotation, options.tags)
    if genes is None:
        genes = read_genes(annotation)
    _say_masking(annotation, options.tags, used, genes)
    genes.attrs["mask_tags"] = used
    return genes


def resolve_tags(annotation: str, options: ScoreOptions) -> ScoreOptions:
    """``options`` with the masking tags used (`mask_tags`), said once as `load_genes` says them:
    options to record, or to send to workers, which then load the same genes quietly."""
    return replace(options, tags=load_genes(annotation, options).attrs["mask_tags"])


def _shape_problem(ref: str, alt: str, d: int) -> str | None:
    bases = set("ACGT")
    if not bases & set(ref) or not bases & set(alt) or (len(ref) != 1 and len(alt) != 1 and len(ref) != len(alt)):
        return "unsupported_shape"
    if len(ref) > 2 * d:
        return "deletion_too_long"
    return None


class VariantScorer:
    """Holds the tools (ensemble, FASTA, genes) and turns records into INFO values and table rows.

    ``model`` is a loaded `Ensemble` or a `ModelSpec` loaded on first use, so records answered
    elsewhere (an all-SNV store) never load the model. ``stored`` optionally supplies reference scores.
    """

    def __init__(self, model: Ensemble | ModelSpec | None, reference: Reference, genes: pd.DataFrame,
                 options: ScoreOptions, stored=None, snv_store: SnvReader | None = None):
        self._model, self.reference, self.options = model, reference, options
        self.snv_store = snv_store
        self.d = options.distance
        self.flank = MODEL.flank
        self.genes = genes
        self.genes_by_chrom = {c: g.sort_values(["strand", "start"], kind="stable")
                               for c, g in genes.groupby("chrom")}
        self.stored = stored

    @property
    def ensemble(self) -> Ensemble:
        if self._model is None:
            raise WeightsError("some variants are not in the all-SNV store and need the model: give --weights "
                               "or set $PANGOLIN_WEIGHTS")
        if isinstance(self._model, ModelSpec):
            self._model = self._model.load()
        return self._model

    def from_snv_store(self, record: Record) -> list[str] | None:
        """The INFO value of every ALT of an SNV record, read from the all-SNV store; None if any ALT
        is not there (the record is then computed, and its problems reported as usual)."""
        if self.snv_store is None or record.error or len(record.ref) != 1:
            return None
        values = []
        for alt in record.alts:
            summaries, _ = self.snv_store.lookup(record.chrom, record.pos, record.ref, alt)
            if summaries is None:
                return None
            values.append(deltas.stored_value(summaries))
        return values

    # -- preparing alleles -------------------------------------------------------------------
    def genes_at(self, chrom: str, pos: int) -> pd.DataFrame:
        """Genes whose body contains 1-based ``pos``, plus-strand genes first, then by start (as the official)."""
        try:
            key = match_contig(chrom, self.genes_by_chrom, "the annotation")
        except ContigNotFound:
            return self.genes.iloc[:0]
        genes = self.genes_by_chrom[key]
        return genes[(genes.start < pos) & (genes.end >= pos)]  # 0-based start: pos is inside

    def prepare(self, index: int, record: Record) -> tuple[list[Allele], list[tuple[int, str]]]:
        """Alleles to score, and (alt index, reason) for those that cannot be scored."""
        if record.error:
            return [], [(-1, record.error)]
        try:
            chrom = self.reference.resolve(record.chrom)
        except ContigNotFound:
            return [], [(-1, "unknown_contig")]
        if record.pos + max(len(record.ref), 1) - 1 > self.reference.lengths[chrom]:
            return [], [(-1, "outside_contig")]  # not a REF mismatch: there is no base there to match
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
            genes = self.genes_at(record.chrom, record.pos) if problem is None else None
            if problem is None and genes.empty:
                problem = "not_in_gene"
            if problem:
                skipped.append((k, problem))
            else:
                alleles.append(Allele(index, k, chrom, record.pos, ref, alt, context, genes))
        return alleles, skipped

    # -- computing scores --------------------------------------------------------------------
    def compute(self, alleles: list[Allele]) -> list[Scores]:
        """Per allele (same order), per strand of its genes: (reference, aligned alternative) scores."""
        ref, alt = self._reference_and_substitutions(alleles)
        self._full_alternatives(alleles, alt)
        return [{s: (ref[n][s], deltas.align_alt(alt[n][s], len(a.ref), len(a.alt), self.d)) for s in a.strands}
                for n, a in enumerate(alleles)]

    def _reference_and_substitutions(self, alleles: list[Allele]) -> tuple[list[dict], list[dict]]:
        """Reference scores per region of nearby variants; substitutions get their alternative
        scores in the same pass (cone of influence, fast engine)."""
        d, flank = self.d, self.flank
        ref: list[dict] = [{} for _ in alleles]
        alt: list[dict] = [{} for _ in alleles]
        by_strand: dict[tuple[str, str], list[int]] = defaultdict(list)
        for n, a in enumerate(alleles):
            for strand in a.strands:
                by_strand[(a.chrom, strand)].append(n)
        for (chrom, strand), members in by_strand.items():
            spans = [(alleles[n].pos - 1 - d, alleles[n].pos - 1 + len(alleles[n].ref) + d) for n in members]
            for start, end in merge_intervals(spans, gap=MODEL.context, max_len=MAX_REGION):
                inside = [n for n, (lo, hi) in zip(members, spans) if start <= lo and hi <= end]
                onehot = one_hot(self.reference.fetch(chrom, start - flank, end + flank))
                scores = self._substitutions(onehot, start, strand, [alleles[n] for n in inside], alt, inside)
                if scores is None:  # no cone pass ran here: a store may hold the reference
                    scores = self.stored.read(chrom, strand, start, end) if self.stored else None
                if scores is None:
                    scores = self.ensemble.score_onehot(onehot, strand)
                for n in inside:
                    lo = alleles[n].pos - 1 - d - start
                    ref[n][strand] = scores[lo : lo + len(alleles[n].ref) + 2 * d].T
        return ref, alt

    def _substitutions(self, onehot: np.ndarray, start: int, strand: str, members: list[Allele],
                       alt: list[dict], ids: list[int]) -> np.ndarray | None:
        """Cone-of-influence alternatives of the region's substitutions (into ``alt``); the region's
        reference scores, or None if there was no substitution to score."""
        if self.ensemble.engine != "fast":
            return None
        groups: dict[int, list[int]] = defaultdict(list)
        for n, a in zip(ids, members):
            if len(a.ref) == len(a.alt):
                groups[len(a.alt)].append(n)
        if not groups:
            return None
        by_id = dict(zip(ids, members))
        batches = [(np.array([by_id[n].pos - 1 - start + self.flank for n in g]),
                    np.stack([one_hot(by_id[n].alt) for n in g])) for g in groups.values()]
        scores, values = self.ensemble.score_substitutions(onehot, batches, self.d, strand)
        for group, group_values in zip(groups.values(), values):
            for n, v in zip(group, group_values):
                alt[n][strand] = v.T
        return scores

    def _full_alternatives(self, alleles: list[Allele], alt: list[dict]) -> None:
        """Full alternative passes, batched, for alleles the reference pass did not cover (indels)."""
        d, flank = self.d, self.flank
        groups: dict[tuple[str, int], list[int]] = defaultdict(list)
        for n, a in enumerate(alleles):
            for strand in a.strands:
                if strand not in alt[n]:
                    groups[(strand, len(a.alt))].append(n)
        for (strand, _), members in groups.items():
            batch = []
            for n in members:
                a = alleles[n]
                x = one_hot(a.context[: flank + d] + a.alt + a.context[flank + d + len(a.ref) :])
                batch.append(reverse_complement_onehot(x) if strand == "-" else x)
            scores = self.ensemble.score_batch(np.ascontiguousarray(np.stack(batch)))
            for n, s in zip(members, scores):
                alt[n][strand] = (s[::-1] if strand == "-" else s).T

    # -- summaries -----------------------------------------------------------------------------
    def info_value(self, a: Allele, scores: Scores) -> str:
        """The official INFO value of one allele: one ``gene|pos:gain|pos:loss|Warnings:`` per gene."""
        bundles = []
        for _, gene in a.genes.iterrows():
            ref, alt = scores[gene.strand]
            sites = annotated_sites(gene) - (a.pos - self.d)
            gain, loss, warning = deltas.masked_gain_loss((alt - ref)[P_SPLICE], sites, self.options.mask)
            bundles.append(deltas.gene_field(gene.gene_id, gain, loss, sites, self.d, self.options.score_cutoff,
                                             self.options.score_exons, warning))
        return ",".join(bundles)

    def table_rows(self, a: Allele, record: Record, scores: Scores) -> list[dict]:
        """Per gene and tissue: P(splice) and usage gain and loss (unmasked), their positions and values."""
        rows = []
        for _, gene in a.genes.iterrows():
            ref, alt = scores[gene.strand]
            delta = alt - ref
            for t, tissue in enumerate(TISSUES):
                row = {"chrom": record.chrom, "pos": a.pos, "ref": record.ref, "alt": record.alts[a.alt_index],
                       "gene_id": gene.gene_id, "gene_name": gene.gene_name, "strand": gene.strand, "tissue": tissue}
                for metric, channel in (("p_splice", P_SPLICE[t]), ("usage", USAGE[t])):
                    values = delta[channel]
                    for kind, where in (("gain", int(np.argmax(values))), ("loss", int(np.argmin(values)))):
                        row[f"{metric}_{kind}"] = float(values[where])
                        row[f"{metric}_{kind}_pos"] = where - self.d
                        row[f"{metric}_{kind}_ref"] = float(ref[channel, where])
                        row[f"{metric}_{kind}_alt"] = float(alt[channel, where])
                rows.append(row)
        return rows
