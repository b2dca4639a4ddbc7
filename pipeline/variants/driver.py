"""Scoring a VCF or CSV end to end: read records, score runs of them here or on Dask workers, write in order.

Records go in runs of ``batch`` (file order keeps nearby variants together, so they share reference
passes). A `ScoreJob` is small and hashable: it travels to Dask workers, each of which builds its
scorer once (`cached_scorer`).
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from ..errors import Interrupted, VariantError
from ..genome.digest import sha256_file
from ..genome.fasta import Reference
from ..model.spec import ModelSpec, default_threads
from ..outputs import OutputFile
from ..snvs.reader import SnvReader
from . import deltas
from .output import ChunkResult, VariantOutput
from .records import Record, read_csv, read_vcf
from .scorer import SKIP_REASONS, ScoreOptions, VariantScorer, load_genes, resolve_tags
from .stored import StoredReference, check_snv_store, check_store

# Reasons that mean the input does not match the reference: when every allele fails for these, the
# input is wrong (another build, other contig names), not merely without genic variants.
MISMATCHES = ("unknown_contig", "ref_mismatch", "outside_contig", "malformed_line", "malformed_position")


@dataclass(frozen=True)
class ScoreJob:
    """How to build a `VariantScorer`: inputs, options, model, and an optional store of reference scores."""

    fasta: str
    annotation: str
    options: ScoreOptions
    model: ModelSpec | None  # None: every variant must be answered by ``snv_store``
    store: str | None = None  # track store of reference scores, checked once by `score_file`
    snv_store: str | None = None  # all-SNV store answering SNVs, checked once by `score_file`

    def build(self) -> VariantScorer:
        stored = StoredReference(self.store) if self.store else None
        snv_store = SnvReader(self.snv_store) if self.snv_store else None
        return VariantScorer(self.model, Reference(self.fasta), load_genes(self.annotation, self.options),
                             self.options, stored, snv_store)


@lru_cache(maxsize=1)
def cached_scorer(job: ScoreJob) -> VariantScorer:
    return job.build()


def score_chunk(scorer: VariantScorer | ScoreJob, chunk: list[tuple[int, Record]], table: bool) -> ChunkResult:
    """Score records (index, record) together, sharing reference passes between nearby ones."""
    if isinstance(scorer, ScoreJob):
        scorer = cached_scorer(scorer)
    result = ChunkResult()
    records = dict(chunk)
    alleles = []
    for index, record in chunk:
        stored = scorer.from_snv_store(record)
        if stored is not None:
            for alt, value in zip(record.alts, stored):
                _add_value(result, index, record, alt.upper(), value)
            result.counts["from_store"] += len(stored)
            continue
        ok, bad = scorer.prepare(index, record)
        alleles += ok
        multi = len(record.alts) > 1
        for k, reason in bad:
            result.skipped[index].append(f"{record.alts[k]}/{reason}" if multi and k >= 0 else reason)
            result.counts[reason] += 1
    for a, scores in zip(alleles, scorer.compute(alleles)):
        _add_value(result, a.record, records[a.record], a.alt, scorer.info_value(a, scores))
        if table:
            result.rows += scorer.table_rows(a, records[a.record], scores)
    return result


def _add_value(result: ChunkResult, index: int, record: Record, alt: str, value: str) -> None:
    """One ALT's INFO value; in multi-allelic records each gene's bundle is prefixed ``ALT/``."""
    result.values[index].append(deltas.allele_value(alt, value, len(record.alts) > 1))
    result.counts["scored"] += 1


def read_records(variants: Path, column_ids: str, skip_malformed: bool = False):
    """(records, VCF header or None, CSV frame or None)."""
    if variants.suffix.lower() == ".csv":
        frame, records = read_csv(variants, column_ids, skip_malformed)
        return records, None, frame
    header, records = read_vcf(variants, skip_malformed)
    return records, header, None


def score_variants(variants: str | Path, scorer: VariantScorer | ScoreJob, out: str | Path | OutputFile,
                   table: str | Path | OutputFile | None = None, batch: int = 256, client=None,
                   on_records: Callable[[int], None] | None = None,
                   on_chunk: Callable[[int], None] | None = None, skip_malformed: bool = False,
                   provenance: dict | None = None) -> Counter:
    """Score a VCF (or CSV) into ``out`` (and optionally a per-tissue table); return counts by outcome.

    Records are scored here, or given a Dask ``client`` and a `ScoreJob`, on its workers; either way
    they are written in input order as they complete. An error or interruption leaves no output
    file behind (a stream keeps what was written).

    Raises
    ------
    VariantError
        If ``out`` cannot be written (before any scoring), if a line is malformed (unless
        ``skip_malformed``), or if nothing in the input matches the reference (no allele scored and
        none skipped for a reason other than a mismatch: unknown contigs, wrong REF).
    """
    variants = Path(variants)
    records, header, frame = read_records(variants, scorer.options.column_ids, skip_malformed)
    output = VariantOutput(out, records, header, frame, table, provenance)
    chunks = [list(enumerate(records[b : b + batch], start=b)) for b in range(0, len(records), batch)]
    if on_records:
        on_records(len(records))
    counts: Counter = Counter()
    try:
        for n, result in _results(scorer, chunks, bool(table), client):
            output.add(chunks[n][0][0], len(chunks[n]), result)
            counts.update(result.counts)
            if on_chunk:
                on_chunk(len(chunks[n]))
        if records and not counts["scored"] and all(k in MISMATCHES for k in counts):
            reason, n = max(counts.items(), key=lambda kv: kv[1])
            raise VariantError(f"none of {len(records)} record(s) matches the reference: most ({n}) were {reason} "
                               f"({SKIP_REASONS.get(reason, reason)}); is this the right FASTA (build, contig names)?")
    except KeyboardInterrupt as stop:
        raise Interrupted(output.abandon(stop)) from None
    except BaseException as err:
        output.abandon(err)  # the error says what went wrong
        raise
    output.close()
    return counts


def _results(scorer: VariantScorer | ScoreJob, chunks: list[list[tuple[int, Record]]], table: bool,
             client) -> Iterator[tuple[int, ChunkResult]]:
    if client is None:
        return ((n, score_chunk(scorer, chunk, table)) for n, chunk in enumerate(chunks))
    from distributed import as_completed

    if not isinstance(scorer, ScoreJob):
        raise TypeError("scoring on Dask workers needs a ScoreJob")
    futures = {client.submit(score_chunk, scorer, chunk, table, pure=False, retries=2): n
               for n, chunk in enumerate(chunks)}
    return ((futures[f], f.result()) for f in as_completed(futures))


def score_file(variants: str | Path, job: ScoreJob, out: str | Path | OutputFile,
               table: str | Path | OutputFile | None = None, batch: int = 256, cluster: str = "none",
               workers: int = 1, on_records: Callable[[int], None] | None = None,
               on_chunk: Callable[[int], None] | None = None, skip_malformed: bool = False) -> Counter:
    """`score_variants` with every input checked here first, inline (``cluster="none"``) or on a Dask
    cluster of ``workers``; warns once per reason with the count of alleles not scored."""
    # the masking tags used, said once here; workers and the header get them as resolved
    job = replace(job, options=resolve_tags(job.annotation, job.options))
    scorer = cached_scorer(job)  # reads the FASTA index and the annotation before any worker starts
    if job.store:
        check_store(scorer.stored.reader, job.model.checksums(), job.model.ensemble, scorer.reference.digest())
    if job.snv_store:
        check_snv_store(scorer.snv_store, job.options, job.annotation, scorer.reference.digest(), table is not None)
    provenance = score_provenance(job, scorer.reference.digest())
    if cluster == "none":
        counts = score_variants(variants, scorer, out, table, batch, None, on_records, on_chunk, skip_malformed,
                                provenance)
    else:
        from ..precompute.cluster import make_client

        if job.model is not None and cluster == "local":  # elsewhere each worker uses its own cores
            job = replace(job, model=job.model.with_threads(default_threads(workers)))
        with make_client(cluster, workers) as client:
            counts = score_variants(variants, job, out, table, batch, client, on_records, on_chunk, skip_malformed,
                                    provenance)
    for reason, n in sorted((k, v) for k, v in counts.items() if k not in ("scored", "from_store")):
        warnings.warn(f"{n} allele(s) not scored: {reason} ({SKIP_REASONS.get(reason, reason)})", stacklevel=2)
    return counts


def score_provenance(job: ScoreJob, reference_digest: str) -> dict:
    """What a scored VCF's values depend on, for its header (see `provenance_header`)."""
    options = job.options
    items = {"reference": f"{Path(job.fasta).name} sha256:{reference_digest}",
             "annotation": f"{Path(job.annotation).name} sha256:{sha256_file(job.annotation)}",
             "settings": {"distance": options.distance, "mask": options.mask, "score_cutoff": options.score_cutoff,
                          "score_exons": options.score_exons,
                          "tags": "|".join(options.tags) or "all transcripts"}}
    if job.model is not None:
        items["ensemble"] = f"{job.model.ensemble} dtype={job.model.dtype} engine={job.model.engine}"
        items["checkpoints"] = job.model.checksums()
    for name, path in (("store", job.store), ("snvStore", job.snv_store)):
        if path:
            items[name] = Path(path).name
    return items
