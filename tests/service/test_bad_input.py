"""Every malformed request gets a 4xx JSON error naming the problem, never a 500, and the server
keeps serving; computing is bounded (429 with Retry-After when the queue is full, 503 past the
time limit) and stored answers never wait behind computed ones."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from .conftest import MAX_REGION, MAX_VARIANTS, STORED_SNV, SlowEngine, running

S = STORED_SNV
BAD_REQUESTS = [
    # (method, path, keyword arguments for httpx, expected status, expected code or None)
    ("GET", "/api/v1/score", {"params": {"variant": "chr17-41276126-C"}}, 400, "malformed_variant"),
    ("GET", "/api/v1/score", {"params": {"variant": "chr17-41276126-C-A-T"}}, 400, "malformed_variant"),
    ("GET", "/api/v1/score", {"params": {"variant": "chr17-41276126-X-A"}}, 400, "bad_allele"),
    ("GET", "/api/v1/score", {"params": {"variant": "chr17-41276126-N-A"}}, 400, "bad_allele"),
    ("GET", "/api/v1/score", {"params": {"variant": "chr17-41276126-C-C"}}, 400, "bad_allele"),
    ("GET", "/api/v1/score", {"params": {"variant": "chr17-0-C-A"}}, 400, "bad_position"),
    ("GET", "/api/v1/score", {"params": {"variant": "chr17-99999999999999-C-A"}}, 400, "bad_position"),
    ("GET", "/api/v1/score", {"params": {"variant": "chr17-81195211-C-A", "hg": "37"}}, 400, "bad_position"),
    ("GET", "/api/v1/score", {"params": {"variant": "chrZZ-100-C-A"}}, 400, "unknown_contig"),
    ("GET", "/api/v1/score", {"params": {"variant": "chr17-41276126-G-A"}}, 400, "ref_mismatch"),
    ("GET", "/api/v1/score", {"params": {"variant": "chr17-41276140-T-A", "hg": "37"}}, 400, "ref_mismatch"),
    ("GET", "/api/v1/score", {"params": {"variant": "chr17-41276126-CA-GTT"}}, 400, "unsupported_variant"),
    ("GET", "/api/v1/score", {"params": {"variant": "1; DROP TABLE variants;--"}}, 400, "malformed_variant"),
    ("GET", "/api/v1/score", {"params": {"variant": "<script>alert(1)</script>"}}, 400, "malformed_variant"),
    ("GET", "/api/v1/score", {"params": {"variant": "../../etc/passwd"}}, 400, "malformed_variant"),
    ("GET", "/api/v1/score", {"params": {"variant": "chr17-41276126-C-A\x00"}}, 400, "malformed_variant"),
    ("GET", "/api/v1/score", {"params": {"variant": "x" * 5000}}, 422, "invalid_request"),
    ("GET", "/api/v1/score", {"params": {"variant": S, "distance": "1e9"}}, 422, "invalid_request"),
    ("GET", "/api/v1/score", {"params": {"variant": S, "distance": "0"}}, 422, "invalid_request"),
    ("GET", "/api/v1/score", {"params": {"variant": S, "hg": "19"}}, 422, "invalid_request"),
    ("GET", "/api/v1/score", {"params": {"variant": S, "source": "file:///etc/passwd"}}, 422, "invalid_request"),
    ("GET", "/api/v1/score", {"params": {"variant": S, "hg": "38", "source": "store"}}, 404, "not_available"),
    ("GET", "/api/v1/score", {"params": {"variant": "chr17-1000-A-C", "source": "store"}}, 404, "not_available"),
    ("GET", "/api/v1/score", {}, 422, "invalid_request"),
    ("POST", "/api/v1/score", {"content": b"{not json", "headers": {"content-type": "application/json"}}, 422,
     "invalid_request"),
    ("POST", "/api/v1/score", {"json": [S]}, 422, "invalid_request"),
    ("POST", "/api/v1/score", {"json": {"variants": S}}, 422, "invalid_request"),
    ("POST", "/api/v1/score", {"json": {"variants": [S], "path": "/etc/passwd"}}, 422, "invalid_request"),
    ("POST", "/api/v1/score", {"json": {"variants": [S] * (MAX_VARIANTS + 1)}}, 413, "too_many_variants"),
    ("POST", "/api/v1/score", {"json": {"variants": [1, 2]}}, 422, "invalid_request"),
    ("POST", "/api/v1/score", {"content": b"x" * 200_000, "headers": {"content-type": "application/json"}}, 413,
     "body_too_large"),
    ("DELETE", "/api/v1/score", {}, 405, "method_not_allowed"),
    ("PUT", "/pangolin/", {}, 405, "method_not_allowed"),
    ("GET", "/etc/passwd", {}, 404, "not_found"),
    ("GET", "/static/../../../etc/passwd", {}, 404, None),
    ("GET", "/api/v1/tracks", {"params": {"q": "chr22:1-10", "store": "../../etc"}}, 404, "no_track_store"),
    ("GET", "/api/v1/tracks", {"params": {"q": "NOSUCHGENE"}}, 400, "bad_region"),
    ("GET", "/api/v1/tracks", {"params": {"q": "chr22:40-20"}}, 400, "bad_region"),
    ("GET", "/api/v1/tracks", {"params": {"q": f"chr22:1-{MAX_REGION + 2}"}}, 413, "region_too_long"),
    ("GET", "/api/v1/tracks", {"params": {"q": "chr22:1-10", "points": "99999999"}}, 422, "invalid_request"),
    ("GET", "/pangolin/", {"params": {"hg": "37", "variant": S, "distance": "99999999999999999999"}}, 400,
     "bad_distance"),
    ("GET", "/pangolin/", {"params": {"hg": "37", "variant": "chr17-41276126-G-A", "distance": 50, "mask": 1}},
     400, "ref_mismatch"),
    ("POST", "/pangolin/", {"content": b"[1,2", "headers": {"content-type": "application/json"}}, 400, "bad_json"),
    ("POST", "/pangolin/", {"json": {"hg": "37", "variant": 12}}, 400, "malformed_variant"),
]


@pytest.mark.slow
def test_every_bad_request_is_a_4xx_json_error(client):
    seen = 0
    for method, path, kwargs, status, code in BAD_REQUESTS:
        r = client.request(method, path, **kwargs)
        assert r.status_code == status, (method, path, kwargs, r.status_code, r.text[:300])
        body = r.json()
        assert body["error"] and "Traceback" not in r.text
        if code:
            assert body["code"] == code, (path, kwargs, body)
        seen += 1
    assert seen == len(BAD_REQUESTS) >= 40
    assert client.get("/api/v1/score", params={"variant": S}).json()["source"] == "store"  # still serving


@pytest.mark.slow
def test_full_queue_429_timeout_503_and_stored_answers_do_not_wait(snv_store):
    from pipeline.service.app import create_app
    from pipeline.service.catalog import Catalog
    from pipeline.service.compute import ComputeQueue

    engine = SlowEngine(1.5)
    queue = ComputeQueue(engine, max_pending=2, timeout=1.0)
    queue.start()
    app = create_app(Catalog([snv_store]), queue)
    computed = {"variant": "chr17-41276200-A-G", "hg": "37"}

    async def scenario(url):
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            first = asyncio.create_task(http.get("/api/v1/score", params=computed))
            second = asyncio.create_task(http.get("/api/v1/score", params={**computed, "variant": "17-41276201-A-G"}))
            while not engine.started.is_set():
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.05)
            t0 = time.monotonic()
            stored = await http.get("/api/v1/score", params={"variant": STORED_SNV})
            stored_seconds = time.monotonic() - t0
            full = await http.get("/api/v1/score", params={**computed, "variant": "17-41276202-A-G"})
            return await first, await second, stored, stored_seconds, full

    try:
        with running(app) as url:
            first, second, stored, stored_seconds, full = asyncio.run(scenario(url))
            assert stored.status_code == 200 and stored.json()["source"] == "store"
            assert stored_seconds < 0.5  # answered while the model is busy
            assert full.status_code == 429 and int(full.headers["Retry-After"]) >= 1
            assert full.json()["code"] == "busy"
            assert {first.status_code, second.status_code} <= {200, 503}
            assert 503 in (first.status_code, second.status_code)  # 1.5 s of work, 1 s allowed
            late = first if first.status_code == 503 else second
            assert late.json()["code"] == "timeout" and "Retry-After" in late.headers
            time.sleep(1.6)
            assert httpx.get(f"{url}/api/v1/health").json()["queue"]["pending"] == 0
            many = [f"17-{41276300 + k}-A-G" for k in range(3)]  # more than the queue ever holds
            r = httpx.post(f"{url}/api/v1/score", json={"variants": many, "hg": "37"}, timeout=30)
            assert r.status_code == 413 and r.json()["code"] == "too_many_to_compute"
    finally:
        queue.stop()


def test_serve_binds_loopback_and_warns_beyond(monkeypatch):
    from pipeline.cli.service import is_loopback

    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.0.2.1")
