"""`serve`: the HTTP service over stores (and the model, given a FASTA and an annotation)."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Optional

import typer

from . import Opt, WeightsNoConfigOpt, _say, app


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@app.command()
def serve(
    stores: Annotated[Optional[list[Path]], typer.Argument(help="all-SNV stores (saturate) and track stores (run)",
                                                           show_default="none")] = None,
    fasta: Annotated[Optional[Path], Opt(help="reference FASTA: compute what no store holds (with --annotation)",
                                         show_default="none: stores only")] = None,
    annotation: Annotated[Optional[Path], Opt(help="GTF or GFF3 for computed answers", show_default="none")] = None,
    weights: WeightsNoConfigOpt = None,
    host: Annotated[str, Opt(help="address to listen on (loopback unless told otherwise)")] = "127.0.0.1",
    port: Annotated[int, Opt(help="TCP port")] = 8080,
    queue: Annotated[int, Opt(help="variants waiting to be computed before 429 Too Many Requests")] = 64,
    timeout: Annotated[float, Opt(help="seconds a request may wait for computed answers")] = 30.0,
    max_variants: Annotated[int, Opt(help="variants per batch request")] = 10_000,
    threads: Annotated[Optional[int], Opt(show_default="the cores this process may use",
                                          help="torch threads computing (fewer on a machine shared with "
                                          "other heavy work)")] = None,
    answer_cache: Annotated[int, Opt(help="stored /pangolin/ answers kept encoded in memory, about 1 KB each "
                                          "(least recently used dropped; 0: none)")] = 10_000,
) -> None:
    """Serve stores over HTTP: SpliceAI-lookup's /pangolin/ API, /api/v1 (OpenAPI at /docs), and a page at /."""
    try:
        import uvicorn

        from ..service.app import Limits, create_app
        from ..service.catalog import Catalog
        from ..service.compute import ComputeQueue, Engine
    except ImportError as err:
        raise typer.BadParameter(f"serve needs the 'serve' extra: pip install 'pangolin-pipeline[serve]' ({err})"
                                 ) from None
    from ..model.checkpoints import resolve_weights
    from ..model.spec import ModelSpec, default_threads

    if (fasta is None) != (annotation is None):
        raise typer.BadParameter("give --fasta and --annotation together (or neither: stores only)")
    if not stores and fasta is None:
        raise typer.BadParameter("nothing to serve: give stores, or --fasta and --annotation")
    if threads is not None and threads < 1:
        raise typer.BadParameter("must be >= 1", param_hint="--threads")
    if answer_cache < 0:
        raise typer.BadParameter("must be >= 0", param_hint="--answer-cache")
    if not 0 < port < 65536:
        raise typer.BadParameter("must be 1 to 65535", param_hint="--port")
    catalog = Catalog([str(p) for p in stores or []])
    compute = None
    if fasta is not None:
        for path in (fasta, annotation):
            if not path.is_file():
                raise typer.BadParameter(f"{path} does not exist")
        model = ModelSpec(str(resolve_weights(weights, None).absolute()), threads=threads or default_threads(1))
        engine = Engine(fasta, annotation, model)
        _say(f"loading the model ({model.ensemble}) for computed answers (build {engine.build or 'unknown'})")
        engine.load()
        compute = ComputeQueue(engine, max_pending=queue, timeout=timeout)
        compute.start()
    for entry in catalog.describe():
        _say(f"serving {entry['kind']} store {entry['name']} (build {entry['build'] or 'unknown'}"
             + (f", distance {entry['distance']}, mask {int(entry['mask'])})" if entry["kind"] == "snv" else ")"))
    if not is_loopback(host):
        _say(f"warning: listening on {host}, beyond this machine: anyone who can reach it can query and load it")
    limits = Limits(max_variants=max_variants)
    try:
        uvicorn.run(create_app(catalog, compute, limits, answer_cache), host=host, port=port, log_level="warning",
                    access_log=False)
    finally:
        if compute is not None:
            compute.stop()
