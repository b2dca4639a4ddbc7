"""publish: copy a finished store to object storage or a web server's folder (see store/publish.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from . import QuietOpt, _say, app


@app.command()
def publish(
    store: Annotated[Path, typer.Argument(help="a finished store (made by `run` or `saturate`)")],
    url: Annotated[str, typer.Argument(help="where to: s3://BUCKET/PATH, gs://BUCKET/PATH, or a folder a web "
                                       "server serves")],
    quiet: QuietOpt = False,
) -> None:
    """Copy a finished store for reading by URL: every object verified by MD5 after upload, the root
    zarr.json (consolidated metadata) written last so readers never see half a store. Run it again to
    resume: objects already there and equal are not copied again."""
    from ..store.publish import publish as publish_store

    report = publish_store(store, url, progress=None if quiet else lambda name: _say(f"copied {name}"))
    _say(f"published {store} to {url}: {report.copied} object(s) copied ({report.bytes:,} bytes), "
         f"{report.already} already there and verified")
