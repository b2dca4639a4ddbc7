"""The hot path: ``GET /pangolin/`` for an SNV a store holds, answered in front of FastAPI.

Most requests a lookup server sees are this one. Through FastAPI each cost about 230 us of CPU
(measured with py-spy under load: a third routing, middleware and query validation, a third uvicorn's
I/O, the rest the lookup and JSON), so 200 closed-loop clients on 2 cores queued for ~55 ms. Here the
request is answered with the same code (`lookup_api.read_params`, `parse`, `Resolver.from_store`,
`lookup_api.response`) and the same `JSONResponse` bytes and headers, and the encoded answer is kept in
a bounded LRU keyed by the raw query string (stores are read-only, so a stored answer never changes;
a key is at most `MAX_KEY` bytes, so the cache's memory is bounded too: about 1 KB an answer).

Anything else goes to the application untouched, which answers it as before: other paths and methods,
query values FastAPI would refuse (longer than its limits), every error (the application builds the
same error body), and variants no store holds (computed by the model). Computed answers are not kept.
"""

from __future__ import annotations

from collections import OrderedDict

from fastapi.responses import JSONResponse
from starlette.datastructures import QueryParams

from . import lookup_api
from .answers import parse
from .resolver import Resolver

PATH = "/pangolin/"
MAX_KEY = 512  # bytes of a query string kept as a key: longer ones (padded with other names) are answered, not kept
Encoded = tuple[list[tuple[bytes, bytes]], bytes]  # raw headers, body


class StoredLookups:
    """ASGI application: answers stored ``GET /pangolin/`` lookups, passes every other request to ``app``.

    ``cache_size`` encoded answers are kept (least recently used dropped first; 0 keeps none).
    """

    def __init__(self, app, resolver: Resolver, cache_size: int = 10_000):
        if cache_size < 0:
            raise ValueError(f"cache_size must be >= 0, not {cache_size}")
        self.app, self.resolver, self.cache_size = app, resolver, cache_size
        self.cache: OrderedDict[bytes, Encoded] = OrderedDict()
        # hits: answered from the cache; misses: read from a store and encoded; passed_on: to the application
        self.stats = {"hits": 0, "misses": 0, "passed_on": 0}

    def __getattr__(self, name):  # the FastAPI app's attributes (openapi, routes, ...) stay reachable
        return getattr(self.app, name)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"] == PATH:
            encoded = self.stored(scope["query_string"])
            if encoded is not None:
                headers, body = encoded
                await send({"type": "http.response.start", "status": 200, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
            self.stats["passed_on"] += 1
        await self.app(scope, receive, send)

    def stored(self, query: bytes) -> Encoded | None:
        """The encoded answer to ``query`` when a store holds it, else None (the application answers)."""
        encoded = self.cache.get(query)
        if encoded is not None:
            self.cache.move_to_end(query)
            self.stats["hits"] += 1
            return encoded
        try:
            encoded = self._encode(query)
        except Exception:  # noqa: BLE001 - an InputProblem, or a bug: the application answers either the same
            return None
        if encoded is not None:
            self.stats["misses"] += 1
            if self.cache_size and len(query) <= MAX_KEY:
                self.cache[query] = encoded
                if len(self.cache) > self.cache_size:
                    self.cache.popitem(last=False)
        return encoded

    def _encode(self, query: bytes) -> Encoded | None:
        params = dict(QueryParams(query))  # as the route reads request.query_params: the last value of a name
        # a value longer than the route accepts is its 422: the application answers it
        if any(len(params.get(name, "")) > limit for name, limit in lookup_api.MAX_LENGTHS.items()):
            return None
        text, build, distance, mask = lookup_api.read_params(params)
        answer = self.resolver.from_store(parse(text), build, distance, mask)
        if answer is None:
            return None
        response = JSONResponse(lookup_api.response(answer, build), headers=lookup_api.CORS)
        return response.raw_headers, response.body
