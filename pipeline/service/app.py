"""The ASGI application: SpliceAI-lookup's Pangolin endpoint, our versioned API (/api/v1, described
by the generated OpenAPI schema at /openapi.json), and the page at /.

Every error is JSON ``{"error": message, "code": ...}`` with a 4xx status (429/503 with Retry-After
when computing is saturated); nothing a request sends names a file.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from . import batch_input, batch_output, lookup_api
from .answers import Answer, InputProblem, parse
from .catalog import Catalog
from .compute import ComputeQueue
from .resolver import Resolver, Unavailable
from .stored_lookups import StoredLookups
from .tracks import read_tracks


@dataclass(frozen=True)
class Limits:
    max_body: int = 1_000_000  # bytes of a request body
    max_variants: int = 10_000  # per batch request
    max_region: int = 2_000_000  # bases of a track request
    max_points: int = 20_000  # values per track returned
    max_distance: int = lookup_api.MAX_DISTANCE


class ScoreRequest(BaseModel):
    """Variants to score together with one set of settings."""

    model_config = ConfigDict(extra="forbid")
    variants: list[str] = Field(description="chr17-41276126-C-A, chr17:41276126:C:A or 17:41276126 C>A",
                                max_length=Limits.max_variants)
    hg: Literal["37", "38"] | None = Field(None, description="genome build; none: any store or the model")
    distance: int = Field(50, ge=1, le=Limits.max_distance, description="bases either side of the variant")
    mask: bool = Field(True, description="official masking (no gains at annotated sites, no losses elsewhere)")
    source: Literal["auto", "store", "model"] = Field("auto", description="auto: a matching store, else the model")


# the settings of a VCF or TSV body, where the query names none: a JSON body's defaults
TEXT_DEFAULTS = {name: spec.default for name, spec in ScoreRequest.model_fields.items() if name != "variants"}
BATCH_DESCRIPTION = """\
Send JSON (`{"variants": [...], "hg": ..., "distance": ..., "mask": ..., "source": ...}`), a VCF
(`text/vcf`; gzip or bgzip too) or a TSV (`text/tab-separated-values`: CHROM, POS, REF, ALT columns
or one variant per line); text/plain is read as a VCF when it has a #CHROM line, else as a TSV. The
settings of a VCF or TSV go in the query. What comes back: `format`, else Accept, else what was sent.
A VCF comes back as sent, annotated with `Pangolin=`, the typed fields of the all-SNV export and
`PangolinSource` (or `PangolinSkipped` with the reason); JSON or TSV asked back as a VCF becomes one
record per variant, in order (refused, 400, if a variant cannot be read); a TSV has one row per
variant and gene.
A line that cannot be read refuses the request (400, naming the line); a variant that cannot be
answered gets its own error. Bounded: the body's bytes and the variants (ALTs) per request are at
most the `limits` that /api/v1/stores reports (413 beyond).
"""


def batch_openapi(limits: Limits) -> dict[str, Any]:
    """The request and response bodies of the batch endpoint, which FastAPI cannot infer (several media types)."""
    text = {"schema": {"type": "string", "maxLength": limits.max_body}}
    return {
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": ScoreRequest.model_json_schema()},
            batch_input.MEDIA_TYPES["vcf"]: {**text, "example": "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\n"
                                                                "chr17\t41276126\t.\tC\tA\n"},
            batch_input.MEDIA_TYPES["tsv"]: {**text, "example": "CHROM\tPOS\tREF\tALT\nchr17\t41276126\tC\tA\n"},
        }},
        "responses": {"200": {"description": f"the answers (at most {limits.max_variants:,} variants per request)",
                              "content": {"application/json": {"schema": {"type": "object"}},
                                          batch_input.MEDIA_TYPES["vcf"]: {"schema": {"type": "string"}},
                                          batch_input.MEDIA_TYPES["tsv"]: {"schema": {"type": "string"}}}}},
    }


def _error(status: int, code: str, message: str, headers: dict | None = None, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, "code": code, **extra}, status_code=status, headers=headers)


def create_app(catalog: Catalog, queue: ComputeQueue | None = None, limits: Limits = Limits(),
               answer_cache: int = 10_000) -> FastAPI:
    """The service; ``answer_cache``: stored /pangolin/ answers kept encoded (`StoredLookups`; 0: none)."""
    resolver = Resolver(catalog, queue)
    # no /docs or /redoc: their pages load scripts from a CDN; the schema itself is at /openapi.json
    app = FastAPI(title="pangolin-pipeline serve", version=__version__, docs_url=None, redoc_url=None,
                  description="Pangolin splice scores from precomputed stores, computed when not stored.")
    # stored GET /pangolin/ lookups, the hot path, are answered in front of FastAPI (same bytes, a fraction
    # of the CPU); everything else reaches it
    stored = StoredLookups(app, resolver, answer_cache)
    static = resources.files("pipeline.service") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        codes = {404: "not_found", 405: "method_not_allowed"}
        return _error(exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail),
                      headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        details = [{"where": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg", "")}
                   for e in exc.errors()[:20]]
        first = details[0] if details else {"where": "request", "problem": "invalid"}
        return _error(422, "invalid_request", f"{first['where']}: {first['problem']}", details=details)

    @app.exception_handler(InputProblem)
    async def problem(request: Request, exc: InputProblem):
        return _error(exc.status, exc.code, exc.message)

    @app.exception_handler(Unavailable)
    async def unavailable(request: Request, exc: Unavailable):
        return _error(exc.status, "busy" if exc.status == 429 else "timeout", exc.message,
                      headers={"Retry-After": str(exc.retry_after)})

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):  # a bug: still JSON, no traceback to the client
        return _error(500, "internal_error", f"internal error ({type(exc).__name__}); see the server log")

    # -- SpliceAI-lookup ------------------------------------------------------------------------
    lookup = {"tags": ["SpliceAI-lookup"],
              "summary": "SpliceAI-lookup's Pangolin API: one variant, its scores per gene"}

    longest = lookup_api.MAX_LENGTHS

    @app.get("/pangolin/", operation_id="pangolin_get", **lookup)
    @app.post("/pangolin/", operation_id="pangolin_post", **lookup)
    async def pangolin(request: Request, variant: str | None = Query(None, max_length=longest["variant"]),
                       hg: str | None = Query(None, max_length=longest["hg"]),
                       distance: str | None = Query(None, max_length=longest["distance"]),
                       mask: str | None = Query(None, max_length=longest["mask"])):
        params: dict[str, Any] = dict(request.query_params)
        if "variant" not in params and request.method == "POST":
            params.update(await _json_object(request))
        text = params.get("variant") if isinstance(params.get("variant"), str) else None
        try:
            text, build, dist, masked = lookup_api.read_params(params)
            answer = await resolver.answer(parse(text), build, dist, masked)
        except InputProblem as exc:
            return JSONResponse(lookup_api.error_body(exc, text), status_code=exc.status)
        return JSONResponse(lookup_api.response(answer, build), headers=lookup_api.CORS)

    # -- our API ---------------------------------------------------------------------------------
    @app.get("/api/v1/stores", tags=["v1"], summary="The stores served and the model, with their identity")
    async def stores() -> dict[str, Any]:
        engine = [queue.engine.description] if queue else []
        return {"version": __version__, "stores": catalog.describe(), "model": engine[0] if engine else None,
                "limits": limits.__dict__}

    @app.get("/api/v1/score", tags=["v1"], summary="One variant's scores per gene, from a store or computed")
    async def score_one(variant: str = Query(..., max_length=200, description="e.g. chr17-41276126-C-A"),
                        hg: Literal["37", "38"] | None = None,
                        distance: int = Query(50, ge=1, le=limits.max_distance), mask: bool = True,
                        source: Literal["auto", "store", "model"] = "auto") -> dict[str, Any]:
        answer = await resolver.answer(parse(variant), hg, distance, mask, source)
        return answer.as_json()

    @app.post("/api/v1/score", tags=["v1"], summary="Many variants in one request: JSON, VCF or TSV in and out",
              description=BATCH_DESCRIPTION, openapi_extra=batch_openapi(limits),
              response_model=None)
    async def score_many(request: Request,
                         format: Literal["json", "vcf", "tsv"] | None = Query(
                             None, description="what comes back; default: the Accept header, else what was sent"),
                         hg: Literal["37", "38"] | None = Query(None, description="VCF or TSV body: genome build"),
                         distance: int | None = Query(None, ge=1, le=limits.max_distance,
                                                      description="VCF or TSV body: bases either side (default 50)"),
                         mask: bool | None = Query(None, description="VCF or TSV body: official masking (default on)"),
                         source: Literal["auto", "store", "model"] | None = Query(
                             None, description="VCF or TSV body: auto, store or model (default auto)")) -> Response:
        sent = batch_input.request_kind(request.headers.get("content-type"))
        wanted = batch_input.response_kind(format, request.headers.get("accept"), sent)
        query = {k: v for k, v in (("hg", hg), ("distance", distance), ("mask", mask), ("source", source))
                 if v is not None}
        body = await request.body()
        if sent == "json":
            if query:
                raise InputProblem("settings_in_query", f"a JSON request's settings go in its body, not the query "
                                   f"({', '.join(query)})")
            batch = _json_batch(body, limits.max_variants)
        else:
            batch = batch_input.read_text(sent, batch_input.body_text(body, limits.max_body), limits.max_variants)
            batch.settings = {**TEXT_DEFAULTS, **query}
        if wanted == "vcf" and batch.kind != "vcf":
            batch = batch_input.as_vcf_batch(batch)
        settings = batch.settings
        results = await _answers(batch, settings)
        if wanted == "json":
            return JSONResponse(batch_output.as_json(batch, results))
        if wanted == "tsv":
            return Response(batch_output.as_tsv(batch, results), media_type=batch_input.MEDIA_TYPES["tsv"])
        sources = _sources(results)
        return Response(batch_output.as_vcf(batch, results, sources, settings, _lengths(sources)),
                        media_type=batch_input.MEDIA_TYPES["vcf"])

    async def _answers(batch: batch_input.Batch, settings: dict[str, Any]) -> list[batch_output.Result]:
        """Each item's answer or problem; stored answers are read at once, computed ones share passes."""
        parsed = [n for n, entry in enumerate(batch.items) if entry.variant is not None]
        answers = await resolver.answer_many([batch.items[n].variant for n in parsed], settings["hg"],
                                             settings["distance"], settings["mask"], settings["source"])
        results: list[batch_output.Result] = [entry.problem for entry in batch.items]
        for n, answer in zip(parsed, answers):
            results[n] = answer
        return results

    def _sources(results: list[batch_output.Result]) -> list[dict[str, Any]]:
        """The identity of each store (or the model) that answered, in the order first used."""
        described = {e.name: e.description for e in catalog.snv}
        names = dict.fromkeys(r.store or "model" for r in results if isinstance(r, Answer))
        return [described[n] if n in described else queue.engine.description for n in names]

    def _lengths(sources: list[dict[str, Any]]) -> dict[str, int]:
        return {c: n for s in reversed(sources) for c, n in s["contigs"].items()}

    @app.get("/api/v1/tracks", tags=["v1"], summary="Per-base P(splice) and usage per tissue of a region or gene")
    async def tracks(q: str = Query(..., max_length=200, description="chr22:32,049,801-32,050,200 or a gene"),
                     store: str | None = Query(None, max_length=200, description="a track store's name"),
                     hg: Literal["37", "38"] | None = None,
                     points: int = Query(2000, ge=10, le=limits.max_points)) -> dict[str, Any]:
        entries = catalog.track_store(store, hg)
        if not entries:
            raise InputProblem("no_track_store", f"no track store named {store[:60]!r}" if store
                               else "this server has no track store" + (f" of build {hg}" if hg else ""), 404)
        last = None
        for entry in entries:
            try:
                return await asyncio.to_thread(read_tracks, entry, q, points, limits.max_region)
            except InputProblem as exc:
                if exc.code != "bad_region":
                    raise
                last = exc
        raise last

    @app.get("/api/v1/health", tags=["v1"], summary="Liveness, the compute queue's and the answer cache's state")
    async def health() -> dict[str, Any]:
        return {"ok": True, "queue": {"pending": queue.pending, "limit": queue.max_pending, **queue.stats}
                if queue else None,
                "answer_cache": {"entries": len(stored.cache), "limit": stored.cache_size, **stored.stats}}

    @app.get("/", include_in_schema=False)
    async def page():
        return FileResponse(str(static / "index.html"), media_type="text/html")

    return BodyLimit(stored, limits.max_body)


class BodyLimit:
    """Refuses a request body over ``limit`` bytes (413) by its Content-Length, or as it arrives when
    chunked, before the application reads it. Plain ASGI: no cost per request beyond a header look."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    def __getattr__(self, name):  # the FastAPI app's attributes (openapi, routes, ...) stay reachable
        return getattr(self.app, name)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers", ())).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            return await _too_large(self.limit)(scope, receive, send)
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise InputProblem("body_too_large", f"request body over {self.limit:,} bytes", 413)
            return message

        return await self.app(scope, counted, send)


def _too_large(limit: int) -> JSONResponse:
    return _error(413, "body_too_large", f"request body over {limit:,} bytes")


def _json_batch(body: bytes, max_variants: int) -> batch_input.Batch:
    """A JSON body checked against `ScoreRequest` (422 naming the problem) as a `Batch`."""
    try:
        request = ScoreRequest.model_validate_json(body)
    except ValidationError as err:
        raise RequestValidationError(err.errors(include_url=False)) from None
    if len(request.variants) > max_variants:
        raise InputProblem("too_many_variants", f"{len(request.variants):,} variants; the limit is "
                           f"{max_variants:,} per request", 413)
    settings = request.model_dump(exclude={"variants"})
    return batch_input.Batch("json", [batch_input.item(text) for text in request.variants], settings=settings)


async def _json_object(request: Request) -> dict[str, Any]:
    body = await request.body()
    if not body:
        return {}
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InputProblem("bad_json", "the body is not valid JSON") from None
    if not isinstance(value, dict):
        raise InputProblem("bad_json", "the body must be a JSON object")
    return value
