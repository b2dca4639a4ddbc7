"""A server on 127.0.0.1 (free port, in a thread) over the small example stores, with the model on
the BRCA1 (GRCh37) FASTA, shared by this folder's tests and stopped at the end."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from pipeline.bench.loopback import free_port

from ..conftest import DATA
from ..tracks.conftest import snv_store  # noqa: F401  (the BRCA1 all-SNV store fixture)

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

GRCH37 = DATA / "grch37-brca1"
STORED_SNV = "chr17-41276126-C-A"  # in the all-SNV store: BRCA1 0.48 at -7, -0.16 at +6
MAX_VARIANTS = 200  # small limits, so that the tests can pass them cheaply
MAX_REGION = 50_000


@contextlib.contextmanager
def running(app, timeout: float = 30.0) -> Iterator[str]:
    """``app`` served by uvicorn on 127.0.0.1 in a thread; yields its base URL, stops it after."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def engine(weights_dir):
    """The model on the BRCA1 FASTA and annotation (the all-SNV store's inputs), loaded once."""
    from pipeline.model.spec import ModelSpec
    from pipeline.service.compute import Engine

    engine = Engine(GRCH37 / "chr17.fa.gz", GRCH37 / "canonical.gtf", ModelSpec(str(weights_dir)))
    engine.load()
    return engine


@pytest.fixture(scope="session")
def server(small_store, snv_store, engine) -> Iterator[str]:  # noqa: F811
    """Base URL of a server over the two-gene track store (GRCh38 chr22) and the BRCA1 all-SNV store
    (GRCh37 chr17), computing on chr17."""
    from pipeline.service.app import Limits, create_app
    from pipeline.service.catalog import Catalog
    from pipeline.service.compute import ComputeQueue

    queue = ComputeQueue(engine, max_pending=16, timeout=60)
    queue.start()
    app = create_app(Catalog([small_store, snv_store]), queue,
                     Limits(max_variants=MAX_VARIANTS, max_region=MAX_REGION, max_body=100_000))
    try:
        with running(app) as url:
            yield url
    finally:
        queue.stop()


@pytest.fixture()
def client(server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=60) as http:
        yield http


class SlowEngine:
    """Stands in for the model: takes ``seconds`` per batch, answers every variant alike."""

    build, names = "37", {}

    def __init__(self, seconds: float):
        self.seconds, self.started, self.calls = seconds, threading.Event(), 0

    def load(self):
        pass

    def has_contig(self, chrom):
        return True

    def score(self, items):
        self.calls += 1
        self.started.set()
        time.sleep(self.seconds)
        return [("BRCA1|1:0.1|-1:-0.1|Warnings:", None)] * len(items)
