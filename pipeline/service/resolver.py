"""Which source answers a variant: an all-SNV store whose build, distance and mask match, else the
model (through the compute queue), else a 4xx naming why neither can."""

from __future__ import annotations

from ..variants.deltas import stored_value
from .answers import Answer, GeneScore, InputProblem, Variant, genes_of
from .catalog import Catalog
from .compute import ComputeQueue, ComputeTimeout, QueueFull

SOURCES = ("auto", "store", "model")
COMPUTE_REASONS = {
    "unknown_contig": ("unknown_contig", "contig {chrom} is not in the reference FASTA", 400),
    "outside_contig": ("bad_position", "position {pos} is past the end of contig {chrom}", 400),
    "ref_mismatch": ("ref_mismatch", "REF {ref} does not match the reference at {chrom}:{pos}", 400),
    "deletion_too_long": ("unsupported_variant", "REF longer than 2 x distance", 400),
    "unsupported_shape": ("unsupported_variant", "not an SNV, MNV or 1-base-anchored indel", 400),
}


class Unavailable(Exception):
    """The queue is full (429) or the request ran out of time (503); ``retry_after`` seconds."""

    def __init__(self, message: str, status: int, retry_after: int):
        super().__init__(message)
        self.message, self.status, self.retry_after = message, status, retry_after


class Resolver:
    def __init__(self, catalog: Catalog, queue: ComputeQueue | None):
        self.catalog, self.queue = catalog, queue
        self.engine = queue.engine if queue else None

    def from_store(self, variant: Variant, build: str | None, distance: int, mask: bool) -> Answer | None:
        """The stored answer, None if no matching store holds the SNV; `InputProblem` for a REF the
        store's reference contradicts. Runs on the event loop: a few array reads from cached blocks."""
        if not variant.is_snv:
            return None
        for entry in self.catalog.snv_stores(build, distance, mask):
            summaries, reason = entry.reader.lookup(variant.chrom, variant.pos, variant.ref, variant.alt)
            if summaries is not None:
                names = entry.names
                genes = [GeneScore(s.gene_id, names.get(s.gene_id, s.gene_id), s.gain / 100, s.gain_pos,
                                   s.loss / 100, s.loss_pos, s.warning) for s in summaries]
                return Answer(variant, "store", entry.name, entry.build, distance, mask, stored_value(summaries),
                              genes)
            if reason == "ref_mismatch":
                raise InputProblem("ref_mismatch", f"REF {variant.ref} does not match the reference base at "
                                   f"{variant.chrom}:{variant.pos} (store {entry.name})")
        return None

    def can_compute(self, variant: Variant, build: str | None) -> bool:
        return (self.engine is not None and (build is None or self.engine.build in (build, None))
                and self.engine.has_contig(variant.chrom))

    async def answer(self, variant: Variant, build: str | None, distance: int, mask: bool,
                     source: str = "auto") -> Answer:
        """One answer; `InputProblem` for its problem."""
        result = (await self.answer_many([variant], build, distance, mask, source))[0]
        if isinstance(result, InputProblem):
            raise result
        return result

    async def answer_many(self, variants: list[Variant], build: str | None, distance: int, mask: bool,
                          source: str = "auto") -> list[Answer | InputProblem]:
        """Answers (or the problem of each variant), same order; stored ones never wait for computed ones."""
        out: list[Answer | InputProblem | None] = [None] * len(variants)
        to_compute = []
        for n, variant in enumerate(variants):
            try:
                if source != "model":
                    out[n] = self.from_store(variant, build, distance, mask)
                if out[n] is None:
                    if source == "store":
                        raise self._not_stored(variant, build, distance, mask, computing=False)
                    if not self.can_compute(variant, build):
                        raise self._not_stored(variant, build, distance, mask, computing=True)
                    to_compute.append(n)
            except InputProblem as problem:
                out[n] = problem
        if to_compute:
            if len(to_compute) > self.queue.max_pending:  # would never fit: not a reason to retry
                raise InputProblem("too_many_to_compute", f"{len(to_compute)} variants to compute; at most "
                                   f"{self.queue.max_pending} per request (serve --queue): split the request", 413)
            try:
                outcomes = await self.queue.submit([(variants[n], distance, mask) for n in to_compute])
            except QueueFull as full:
                raise Unavailable(str(full), 429, full.retry_after) from None
            except ComputeTimeout as late:
                raise Unavailable(str(late), 503, self.queue.retry_after()) from None
            for n, (info, reason) in zip(to_compute, outcomes):
                out[n] = self._computed(variants[n], distance, mask, info, reason)
        return out

    def _computed(self, variant: Variant, distance: int, mask: bool, info: str | None,
                  reason: str | None) -> Answer | InputProblem:
        if info is not None:
            return Answer(variant, "model", None, self.engine.build, distance, mask, info,
                          genes_of(info, self.engine.names))
        if reason == "not_in_gene":
            return Answer(variant, "model", None, self.engine.build, distance, mask, "", [])
        code, message, status = COMPUTE_REASONS.get(reason, ("not_scored", f"not scored: {reason}", 422))
        return InputProblem(code, message.format(chrom=variant.chrom, pos=variant.pos, ref=variant.ref), status)

    def _not_stored(self, variant: Variant, build: str | None, distance: int, mask: bool,
                    computing: bool) -> InputProblem:
        known = any(_has(e.description["contigs"], variant.chrom) for e in self.catalog.snv)
        if self.engine is not None:
            known = known or self.engine.has_contig(variant.chrom)
        if not known:
            return InputProblem("unknown_contig", f"contig {variant.chrom[:40]!r} is in no store of this server"
                                f"{' nor in its reference FASTA' if self.engine else ''}")
        settings = f"build {build or 'any'}, distance {distance}, mask {int(mask)}"
        why = "" if not computing else (
            "; this server computes nothing (start it with --fasta and --annotation)" if self.engine is None
            else f"; its model's reference is build {self.engine.build}")
        return InputProblem("not_available", f"{variant.name} is in no all-SNV store with {settings}{why}", 404)


def _has(contigs: dict[str, int], chrom: str) -> bool:
    from ..genome.contigs import aliases

    return any(a in contigs for a in aliases(chrom))
