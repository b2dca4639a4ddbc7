"""Fuzzing the generated OpenAPI schema with schemathesis (bounded examples per operation): no
request, however odd, gets a 5xx or an answer that breaks the schema."""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402

EXAMPLES = 25  # per operation: bounded, the whole fuzz takes well under a minute


def fuzz(base_url: str, examples: int = EXAMPLES) -> dict[str, dict[int, int]]:
    """Call every operation of the server's schema with ``examples`` generated cases; status counts
    per operation. Fails on a 5xx, a 2xx that breaks the schema, or an error without a message."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    counts: dict[str, dict[int, int]] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        seen = counts.setdefault(f"{operation.method.upper()} {operation.path}", {})
        _checker(operation, seen, base_url, examples)()
    return counts


@pytest.mark.slow
def test_no_server_error(server):
    counts = fuzz(server)
    assert len(counts) >= 6 and all(sum(c.values()) >= 1 for c in counts.values())
    print("schemathesis calls per operation and status:", counts)


def _checker(operation, seen: dict[int, int], base_url: str, examples: int):
    """A hypothesis test calling ``operation`` with generated cases, counting statuses into ``seen``."""
    from schemathesis.specs.openapi.checks import response_schema_conformance

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
              database=None)
    @given(case=operation.as_strategy())
    def check(case):
        response = case.call(base_url=base_url, timeout=60)
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        assert response.status_code < 500, (case.method, case.path, case.query, response.text[:300])
        if response.status_code < 300:
            case.validate_response(response, checks=(response_schema_conformance,))
        else:
            assert response.json()["error"]

    return check
