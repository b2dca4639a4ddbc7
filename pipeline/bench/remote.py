"""Remote reads of a chr1-sized track store: requests by kind, bytes and time of 10 kb region queries
over a loopback nginx, against the same queries on the local store.

    python -m pipeline.bench.remote [--repeats 3]

The store has GRCh38 chr1's length (248,956,422 positions) and the default tiling (shards of 1 Mi
positions, chunks of 64 Ki, float16), written only in the chunks around the queried regions
(three on each side of the boundary between shards 95 and 96, both strands) through the store's
own write path; empty chunks are not written, so it is small. Its values are synthetic (the model
is not run). nginx's access log counts every request (the server's side: one line per request) and
says which kind: ``zarr.json`` (metadata), the group's shard-index bundle (store/shard_indexes.py),
a suffix range (a shard's index, read with the shard's tail) or a range (a chunk). The same store is
published twice, with its bundles and without them (as stores made before bundles are), and every
query runs on both. Times are the best of ``--repeats``, each from a fresh process state (no
remembered metadata, bundles or indexes); a repeat of the query in the same process is counted too.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

from ..store import consolidate
from ..store.location import forget_remote_stores, request_counts
from ..store.manifest import Manifest
from ..store.publish import publish
from ..store.shard_indexes import GROUP as BUNDLES
from ..store.tile import Tile
from ..store.writes import write_values
from ..tracks.layout import VARIABLES
from ..tracks.query import to_table
from ..tracks.reader import TrackReader
from .loopback import NGINX, NginxServer
from .queries import CHR1, CHUNK, TILE, create_synthetic, synthetic_genes

SHARD = 96  # the queries sit around chr1's shard 96, which starts at offset 100,663,296
QUERIES = {  # name -> the 1-based first position of a 10,000-base region
    "inside one chunk": SHARD * TILE + CHUNK + 20_001,
    "across two chunks": SHARD * TILE + CHUNK - 5_000 + 1,
    "across two shards": SHARD * TILE - 5_000 + 1,
}
WRITTEN = ((SHARD * TILE - 3 * CHUNK, SHARD * TILE), (SHARD * TILE, SHARD * TILE + 3 * CHUNK))  # 0-based


def chr1_store(path: Path, seed: int = 0, bundles: bool = True) -> Path:
    """The chr1-sized store: metadata of the whole chromosome, values only in `WRITTEN` (tiles done);
    without shard-index bundles unless ``bundles`` (a store as made before them)."""
    rng = np.random.default_rng(seed)
    contigs = {"chr1": CHR1}
    create_synthetic(path, synthetic_genes(rng, 2_000, contigs), contigs)
    tiles = [Tile("chr1", strand, start // TILE, start, end, ((start, end),))
             for strand in "+-" for start, end in WRITTEN]
    manifest = Manifest(path)
    manifest.write_tiles(tiles)
    for tile in tiles:
        for name in VARIABLES:  # mostly small, as splice scores are: float16 that compresses like a real track's
            values = rng.random((tile.end - tile.start, 4), dtype=np.float32) ** 8
            write_values(path, f"chr1/{name}", ("+-".index(tile.strand), slice(tile.start, tile.end)), values)
        manifest.mark_done(tile.id)
    consolidate(path, bundles=bundles)  # as a finished run leaves it
    return path


def region(first: int) -> str:
    return f"chr1:{first:,}-{first + 9_999:,}"


def kind(uri: str, asked: str) -> str:
    """What a request read, from its path and Range header."""
    if uri.endswith("zarr.json"):
        return "metadata"
    if f"/{BUNDLES}/" in uri:
        return "bundle"
    if asked.startswith("bytes=-"):
        return "index"  # a suffix range: the shard's index, with the shard's tail
    return "chunk" if asked.startswith("bytes=") else "whole"


def kinds(served: list[tuple[int, str, str, int]]) -> tuple[Counter, Counter]:
    """Requests and bytes by kind, from nginx's log lines (status, path, Range header, bytes)."""
    requests: Counter = Counter()
    sent: Counter = Counter()
    for _, uri, asked, size in served:
        requests[kind(uri, asked)] += 1
        sent[kind(uri, asked)] += size
    return requests, sent


def best_time(query, repeats: int, before=None) -> float:
    best = float("inf")
    for _ in range(repeats):
        if before is not None:
            before()
        start = time.perf_counter()
        query()
        best = min(best, time.perf_counter() - start)
    return best


def measure(nginx: NginxServer, local: Path, url: str, text: str, strand: str | None, repeats: int) -> dict:
    """One query: requests by kind and bytes (fresh state, then repeated in-process), times, equality."""
    def read(where):
        return to_table(TrackReader(where).select(text, strand))

    expected = read(local)
    forget_remote_stores()
    nginx.clear_log()
    got = read(url)
    served = nginx.requests()
    counted = request_counts(url)
    nginx.clear_log()
    read(url)  # the same query again in this process: metadata and shard indexes are remembered
    again = kinds(nginx.requests())[0]
    requests, sent = kinds(served)
    return {"equal": got.equals(expected) and len(got) > 0, "kinds": requests, "sent": sent, "again": again,
            "client_requests": counted["requests"], "served": len(served),
            "remote_s": best_time(lambda: read(url), repeats, forget_remote_stores),
            "local_s": best_time(lambda: read(local), repeats)}


ORDER = ("metadata", "bundle", "index", "chunk", "whole")


def describe(counts: Counter) -> str:
    return " + ".join(f"{counts[k]} {k}" for k in ORDER if counts[k]) or "0"


def bench_remote(repeats: int = 3) -> str:
    """The report (a Markdown table); raises RuntimeError where nginx is missing."""
    if NGINX is None:
        raise RuntimeError("nginx is not installed (apt-get install nginx): the benchmark serves the store with it")
    with tempfile.TemporaryDirectory() as tmp:
        www = Path(tmp) / "www"
        stores = {}
        for name, bundles in (("no", False), ("yes", True)):  # the same values (same seed), with and without
            stores[name] = chr1_store(Path(tmp) / f"chr1-{name}.zarr", bundles=bundles)
            publish(stores[name], str(www / f"chr1-{name}.zarr"))
        nginx = NginxServer(www, Path(tmp) / "nginx").start()
        try:
            lines = [f"chr1-sized track store (248,956,422 positions, shards of {TILE:,}, chunks of {CHUNK:,}, "
                     f"float16) served by nginx on loopback; best of {repeats}, load "
                     f"{os.getloadavg()[0]:.1f} at start",
                     "",
                     "| 10,000 bases | strands | bundle | requests (fresh process) | bytes (metadata / bundle / "
                     "index / chunk) | same query again | remote ms | local ms | remote / local | equal |",
                     "|---|---|---|---|---|---|---|---|---|---|"]
            for query, first in QUERIES.items():
                for strand in ("+", None):
                    for name, store in stores.items():
                        url = f"{nginx.url}/{store.name}"
                        r = measure(nginx, store, url, region(first), strand, repeats)
                        if r["client_requests"] != r["served"]:  # the client's count must agree with the server's
                            raise RuntimeError(f"nginx served {r['served']} requests, the reader counted "
                                               f"{r['client_requests']}")
                        sent = " / ".join(f"{r['sent'][k]:,}" for k in ORDER[:4])
                        lines.append(f"| {query} ({region(first)}) | {strand or 'both'} | {name} | "
                                     f"{describe(r['kinds'])} | {sent} | {describe(r['again'])} | "
                                     f"{r['remote_s'] * 1e3:.0f} | {r['local_s'] * 1e3:.0f} | "
                                     f"{r['remote_s'] / r['local_s']:.2f} | {'yes' if r['equal'] else 'NO'} |")
        finally:
            nginx.stop()
            forget_remote_stores()
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per query (the best is shown)")
    args = parser.parse_args(argv)
    try:
        print(bench_remote(args.repeats))
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
