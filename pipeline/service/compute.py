"""Computing answers with the model, off the event loop and bounded.

One worker thread owns the `Engine` (FASTA handle, genes, the loaded ensemble). Requests put jobs in
a queue with a limit on pending variants (`QueueFull` past it: the caller answers 429 with
Retry-After); the worker takes every job waiting (up to ``max_batch`` variants) and scores them
together, so concurrent requests share reference passes. A request waits at most ``timeout``
seconds; a job whose requester gave up is dropped before it runs.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path

from ..genome.digest import sha256_file
from ..genome.fasta import Reference
from ..model.spec import ModelSpec
from ..variants.driver import score_chunk
from ..variants.records import Record
from ..variants.scorer import ScoreOptions, VariantScorer, load_genes
from .answers import Variant
from .builds import infer_build
from .catalog import weights_digest

# (INFO value, None) or (None, reason as `score` names it: unknown_contig, ref_mismatch, not_in_gene, ...)
Outcome = tuple[str | None, str | None]


class Engine:
    """The model, a FASTA and an annotation: computes the INFO value of variants (SNVs through the
    cone-of-influence pass, indels through full alternative passes, as `score` does)."""

    def __init__(self, fasta: str | Path, annotation: str | Path, model: ModelSpec):
        self.reference = Reference(fasta)
        self.build = infer_build(self.reference.lengths)
        self.genes = load_genes(str(annotation), ScoreOptions())
        self.names = dict(zip(self.genes.gene_id.astype(str), self.genes.gene_name.astype(str)))
        self.model = model
        self.ensemble = None
        self._scorers: dict[tuple[int, bool], VariantScorer] = {}
        self.description = {"name": "model", "kind": "model", "build": self.build,
                            "contigs": dict(self.reference.lengths), "reference_sha256": None,
                            "annotation_sha256": sha256_file(annotation), "weights_sha256": None,
                            "ensemble": model.ensemble, "distance": "any", "mask": "any"}

    def load(self) -> None:
        """Load the networks (seconds) and fill in the digests; once."""
        if self.ensemble is not None:
            return
        self.ensemble = self.model.load()
        self.description["weights_sha256"] = weights_digest(self.model.checksums())
        self.description["reference_sha256"] = self.reference.digest()

    def has_contig(self, chrom: str) -> bool:
        try:
            self.reference.resolve(chrom)
        except KeyError:
            return False
        return True

    def score(self, items: list[tuple[Variant, int, bool]]) -> list[Outcome]:
        """Outcomes of (variant, distance, mask) items, same order; items sharing settings run together."""
        if self.ensemble is None:
            self.load()
        groups: dict[tuple[int, bool], list[int]] = defaultdict(list)
        for n, (_, distance, mask) in enumerate(items):
            groups[(distance, mask)].append(n)
        out: list[Outcome] = [(None, "not_scored")] * len(items)
        for key, members in groups.items():
            scorer = self._scorer(*key)
            chunk = [(n, Record(0, [], items[n][0].chrom, items[n][0].pos, items[n][0].ref, [items[n][0].alt]))
                     for n in sorted(members, key=lambda n: (items[n][0].chrom, items[n][0].pos))]
            result = score_chunk(scorer, chunk, False)
            for n in members:
                values, skipped = result.values.get(n), result.skipped.get(n)
                out[n] = (values[0], None) if values else (None, skipped[0] if skipped else "not_scored")
        return out

    def _scorer(self, distance: int, mask: bool) -> VariantScorer:
        key = (distance, mask)
        if key not in self._scorers:
            if len(self._scorers) > 8:
                self._scorers.pop(next(iter(self._scorers)))
            self._scorers[key] = VariantScorer(self.ensemble, self.reference, self.genes,
                                               ScoreOptions(distance=distance, mask=mask))
        return self._scorers[key]


class QueueFull(Exception):
    def __init__(self, retry_after: int):
        super().__init__(f"the compute queue is full; retry after {retry_after} s")
        self.retry_after = retry_after


class ComputeTimeout(Exception):
    pass


@dataclass
class _Job:
    items: list[tuple[Variant, int, bool]]
    future: asyncio.Future
    loop: asyncio.AbstractEventLoop
    abandoned: bool = False
    queued: float = field(default_factory=time.monotonic)


class ComputeQueue:
    """A bounded queue in front of one worker thread running an `Engine`."""

    def __init__(self, engine: Engine, max_pending: int = 64, max_batch: int = 64, timeout: float = 30.0):
        self.engine, self.max_pending, self.max_batch, self.timeout = engine, max_pending, max_batch, timeout
        self._jobs: deque[_Job] = deque()
        self._pending = 0  # variants queued or running
        self._cond = threading.Condition()
        self._stop = False
        self._seconds_per_variant = 1.0  # running estimate, for Retry-After
        self._thread = threading.Thread(target=self._work, name="pangolin-compute", daemon=True)
        self.ready = threading.Event()
        self.stats = {"computed": 0, "batches": 0, "rejected": 0, "timed_out": 0}

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        self._thread.join(timeout=30)

    @property
    def pending(self) -> int:
        return self._pending

    def retry_after(self) -> int:
        return max(1, math.ceil(self._pending * self._seconds_per_variant))

    async def submit(self, items: list[tuple[Variant, int, bool]]) -> list[Outcome]:
        """Outcomes of ``items``; raises `QueueFull` at once when there is no room, `ComputeTimeout`
        after ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        with self._cond:
            if self._pending + len(items) > self.max_pending:
                self.stats["rejected"] += 1
                raise QueueFull(self.retry_after())
            job = _Job(items, loop.create_future(), loop)
            self._jobs.append(job)
            self._pending += len(items)
            self._cond.notify()
        try:
            return await asyncio.wait_for(asyncio.shield(job.future), self.timeout)
        except TimeoutError:
            job.abandoned = True
            self.stats["timed_out"] += 1
            raise ComputeTimeout(f"not computed within the {self.timeout:g} s limit per request") from None

    def _take(self) -> list[_Job] | None:
        with self._cond:
            while not self._jobs and not self._stop:
                self._cond.wait(timeout=1.0)
            if self._stop:
                return None
            jobs, count = [], 0
            while self._jobs and (not jobs or count + len(self._jobs[0].items) <= self.max_batch):
                job = self._jobs.popleft()
                if job.abandoned:
                    self._pending -= len(job.items)
                    continue
                jobs.append(job)
                count += len(job.items)
            return jobs

    def _work(self) -> None:
        try:
            self.engine.load()  # normally done before the server starts; here for library use
        except Exception:  # noqa: BLE001 - each job then reports the error
            pass
        finally:
            self.ready.set()
        while (jobs := self._take()) is not None:
            if not jobs:
                continue
            items = [item for job in jobs for item in job.items]
            started = time.monotonic()
            try:
                outcomes = self.engine.score(items)
                error = None
            except Exception as err:  # a bug must fail these requests, not the worker
                outcomes, error = [], err
            elapsed = time.monotonic() - started
            self._seconds_per_variant = 0.7 * self._seconds_per_variant + 0.3 * elapsed / len(items)
            self.stats["computed"] += len(items)
            self.stats["batches"] += 1
            first = 0
            for job in jobs:
                part = outcomes[first : first + len(job.items)]
                first += len(job.items)
                job.loop.call_soon_threadsafe(_settle, job.future, part, error)
            with self._cond:
                self._pending -= len(items)


def _settle(future: asyncio.Future, result, error) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
