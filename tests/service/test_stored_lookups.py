"""The hot path in front of FastAPI (`StoredLookups`): a stored GET /pangolin/ answer is byte for byte
what the application answers, errors and computed answers still come from the application, and the
cache of encoded answers stays within its bounds."""

from __future__ import annotations

import httpx
import pytest

from .conftest import STORED_SNV, running

pytestmark = pytest.mark.slow  # the all-SNV store is built once for the folder


def _headers(response: httpx.Response) -> list[tuple[str, str]]:
    return [(k, v) for k, v in response.headers.multi_items() if k != "date"]


def _cache(client: httpx.Client) -> dict:
    return client.get("/api/v1/health").json()["answer_cache"]


def test_answers_are_the_applications_to_the_byte(client, snv_store):
    """Every SNV of the store: GET (the hot path, first read from the store, then from the cache) and
    POST with the same query (FastAPI's route, the same handler) give the same status, headers and body;
    so do the errors and the lookups it passes on."""
    from pipeline.bench.service import expected_answers

    answers, *_ = expected_answers(str(snv_store))
    assert len(answers) >= 20
    queries = [{"hg": "37", "distance": "50", "mask": "1", "variant": text} for text in answers]
    passed_on = [
        {"hg": "37", "distance": "50", "mask": "1", "variant": "chr17-41276126-G-A"},  # REF mismatch: 400
        {"hg": "38", "distance": "50", "mask": "1", "variant": STORED_SNV},  # no store of build 38: 404
        {"distance": "50", "mask": "1", "variant": STORED_SNV},  # no hg: 400
        {"hg": "37", "distance": "50", "mask": "1", "variant": STORED_SNV + " " * 1000},  # FastAPI's 422
        {"hg": "37", "distance": "50", "mask": "2", "variant": STORED_SNV},
    ]
    before = _cache(client)
    for params in queries + passed_on:
        first, again = client.get("/pangolin/", params=params), client.get("/pangolin/", params=params)
        through_fastapi = client.post("/pangolin/", params=params)
        for r in (first, again):
            assert (r.status_code, _headers(r), r.content) == (through_fastapi.status_code,
                                                               _headers(through_fastapi), through_fastapi.content)
    after = _cache(client)
    assert after["misses"] - before["misses"] <= len(queries)  # a query another test asked may be kept already
    assert after["hits"] - before["hits"] >= len(queries)
    assert after["passed_on"] - before["passed_on"] == 2 * len(passed_on)
    assert {r.status_code for r in (client.get("/pangolin/", params=p) for p in passed_on)} == {400, 404, 422}


def test_stored_answers_are_the_ones_of_lookup(client, snv_store):
    from pipeline.bench.service import _same, expected_answers

    answers, *_ = expected_answers(str(snv_store))
    for text, info in answers.items():
        r = client.get("/pangolin/", params={"hg": "37", "distance": "50", "mask": "1", "variant": text})
        assert r.status_code == 200 and r.json()["source"] == "pangolin:store"
        assert _same(r.json()["scores"], info), (text, r.text)


def test_the_cache_is_bounded(snv_store):
    from pipeline.service.app import create_app
    from pipeline.service.catalog import Catalog

    app = create_app(Catalog([snv_store]), None, answer_cache=2)
    base = {"hg": "37", "distance": "50", "mask": "1"}
    variants = [STORED_SNV, "chr17-41276126-C-G", "chr17-41276126-C-T"]
    with running(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        bodies = [client.get("/pangolin/", params={**base, "variant": v}).content for v in variants]
        assert _cache(client) == {"entries": 2, "limit": 2, "hits": 0, "misses": 3, "passed_on": 0}
        assert client.get("/pangolin/", params={**base, "variant": variants[0]}).content == bodies[0]  # dropped, read
        assert client.get("/pangolin/", params={**base, "variant": variants[2]}).content == bodies[2]  # kept
        assert _cache(client) == {"entries": 2, "limit": 2, "hits": 1, "misses": 4, "passed_on": 0}
        # a long query string is answered, not kept: keys are bounded too
        padded = client.get("/pangolin/", params={**base, "variant": variants[1], "pad": "x" * 600})
        assert padded.content == bodies[1]
        assert _cache(client)["entries"] == 2 and _cache(client)["misses"] == 5

    app = create_app(Catalog([snv_store]), None, answer_cache=0)
    with running(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        assert client.get("/pangolin/", params={**base, "variant": STORED_SNV}).content == bodies[0]
        assert _cache(client) == {"entries": 0, "limit": 0, "hits": 0, "misses": 1, "passed_on": 0}
