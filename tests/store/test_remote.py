"""Stores read by URL (#26) from a real nginx on loopback: every reader equals the local store value
for value, reads are few (counted in nginx's log), and failures are one `error:` line.

The stores are published to the folder nginx serves with `publish` itself. Skipped, with the reason,
where nginx is not installed (CI installs it: .ci/run).
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from pipeline.errors import StoreError
from pipeline.store.location import forget_remote_stores, locate, remote_store
from pipeline.store.publish import publish

from ..conftest import run_cli
from .test_remote_servers import NGINX, NginxServer, free_port

GENE = "MINUS1"  # in the small store (- strand)
requires_nginx = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install nginx): the "
                                    "HTTP tests serve stores from a real web server")
pytestmark = requires_nginx


@pytest.fixture(autouse=True)
def fresh_reads(monkeypatch):
    """Each test starts with no remembered metadata, fast retries and short timeouts."""
    monkeypatch.setenv("PANGOLIN_RETRIES", "2")
    monkeypatch.setenv("PANGOLIN_BACKOFF", "0.01")
    monkeypatch.setenv("PANGOLIN_TIMEOUT", "5")
    monkeypatch.delenv("PANGOLIN_CACHE", raising=False)
    forget_remote_stores()
    yield
    forget_remote_stores()


@pytest.fixture(scope="module")
def www(small_store, tmp_path_factory) -> Path:
    """The folder nginx serves: the small store published, and broken things beside it."""
    root = tmp_path_factory.mktemp("www")
    publish(small_store, str(root / "track.zarr"))
    (root / "notastore").mkdir()
    (root / "notastore" / "zarr.json").write_text(json.dumps({"zarr_format": 3, "node_type": "group",
                                                              "attributes": {}}))
    (root / "garbage").mkdir()
    (root / "garbage" / "zarr.json").write_text("<html>not here</html>")
    future = json.loads((root / "track.zarr" / "zarr.json").read_text())
    future["attributes"]["format_version"] = 99
    shutil.copytree(root / "track.zarr", root / "future.zarr")
    (root / "future.zarr" / "zarr.json").write_text(json.dumps(future))
    shutil.copytree(root / "track.zarr", root / "truncated.zarr")
    for shard in (root / "truncated.zarr").rglob("c/*/*/*"):  # as an upload cut short would leave them
        if shard.is_file():
            shard.write_bytes(shard.read_bytes()[: shard.stat().st_size // 2])
    return root


@pytest.fixture(scope="module")
def nginx(www, tmp_path_factory):
    server = NginxServer(www, tmp_path_factory.mktemp("nginx")).start()
    yield server
    server.stop()


def data_requests(server: NginxServer) -> list[tuple[int, str, str, int]]:
    return [r for r in server.requests() if not r[1].endswith("zarr.json")]


def test_xarray_reads_equal_local(nginx, small_store):
    url = f"{nginx.url}/track.zarr"
    nginx.clear_log()
    tree = xr.open_datatree(url, engine="pangolin")
    assert len(nginx.requests()) == 1  # the root zarr.json: consolidated metadata, labels from the format
    local = xr.open_datatree(small_store, engine="pangolin")
    for chrom in local.children:  # the genes' span: a whole chromosome over HTTP took three minutes
        genes = local[chrom].to_dataset().pangolin.genes
        span = {"position": slice(int(genes.start.min()), int(genes.end.max()))}
        xr.testing.assert_identical(tree[chrom].to_dataset().sel(span).load(),
                                    local[chrom].to_dataset().sel(span).load())
    ds = xr.open_dataset(url, engine="pangolin", group="chr22")
    here = xr.open_dataset(small_store, engine="pangolin", group="chr22")
    gene = ds.pangolin.gene(GENE)  # the accessor reads the gene table from the URL
    xr.testing.assert_identical(gene.load(), here.pangolin.gene(GENE).load())
    assert ds.encoding["pangolin_store"] == url


def test_status_of_a_published_store_equals_local(nginx, small_store, monkeypatch, capsys):
    expected = run_cli(monkeypatch, capsys, "status", small_store, "--json")
    assert run_cli(monkeypatch, capsys, "status", f"{nginx.url}/track.zarr", "--json")[:2] == expected[:2]
    assert expected[0] == 0 and '"tiles_done"' in expected[1]


def test_query_equals_local_in_few_requests(nginx, small_store, monkeypatch, capsys):
    url = f"{nginx.url}/track.zarr"
    expected = run_cli(monkeypatch, capsys, "query", small_store, GENE)
    nginx.clear_log()
    code, out, err = run_cli(monkeypatch, capsys, "query", url, GENE)
    assert (code, out) == expected[:2] and code == 0
    served = nginx.requests()
    meta = [r for r in served if r[1].endswith("zarr.json")]
    assert len(meta) == 1, served  # one request for all metadata
    # per variable and shard touched: its index (with the tail of the shard) and its chunk range
    shards = {r[1] for r in data_requests(nginx)}
    assert len(data_requests(nginx)) <= 2 * len(shards), served
    assert all(status in (200, 206) for status, *_ in served)


@pytest.fixture(scope="module")
def wide_shards(tmp_path_factory, www) -> Path:
    """The two genes in shards of 1 Mi positions and chunks of 64 Ki, as `run` makes them by default."""
    from pipeline.tracks.plan import run_tracks as run

    from ..conftest import two_gene_config

    out = tmp_path_factory.mktemp("wide") / "wide.zarr"
    run(two_gene_config(out, tile_size=1_048_576, chunk_size=65_536))
    publish(out, str(www / "wide.zarr"))
    return out


def test_region_query_goal(nginx, wide_shards):
    """A 10 kb region on one strand: requests, bytes, time (within 2x local, plus slack for a loaded machine)."""
    from pipeline.tracks.query import to_table
    from pipeline.tracks.reader import TrackReader

    gene = TrackReader(wide_shards).resolve(GENE)
    region = f"chr22:{gene.start + 1 - 5000:,}-{gene.start + 5000:,}"
    start = time.perf_counter()
    local = to_table(TrackReader(wide_shards).select(region, "-"))
    local_s = time.perf_counter() - start
    nginx.clear_log()
    start = time.perf_counter()
    remote = to_table(TrackReader(f"{nginx.url}/wide.zarr").select(region, "-"))
    remote_s = time.perf_counter() - start
    assert remote.equals(local) and len(remote) == 10_000
    served, data = nginx.requests(), data_requests(nginx)
    print(f"10 kb query: {len(served)} requests, {sum(r[3] for r in served):,} bytes, {remote_s:.3f} s "
          f"(local {local_s:.3f} s)")
    assert len(served) - len(data) == 1  # metadata
    bundles = [uri for _, uri, *_ in data if "/_shard_indexes/" in uri]
    assert bundles == ["/wide.zarr/_shard_indexes/chr22/c/0"], data  # every shard index of chr22, read once
    per_variable = {}
    for _, uri, *_ in data:
        if uri not in bundles:
            per_variable.setdefault(uri.split("/")[3], []).append(uri)
    assert set(per_variable) == {"p_splice", "usage"}
    assert all(len(uris) <= 2 for uris in per_variable.values()), data  # chunk ranges only: no index reads
    assert remote_s <= 2 * local_s + 0.5


@pytest.fixture(scope="module")
def chr1_stores(www, tmp_path_factory) -> dict[bool, Path]:
    """The benchmark's chr1-sized store (python -m pipeline.bench.remote), published with its shard-index
    bundles (as `run` and `finalize` now leave a store) and without them (a store made before)."""
    from pipeline.bench.remote import chr1_store

    stores = {}
    for bundles in (True, False):
        name = f"chr1-{'with' if bundles else 'without'}.zarr"
        stores[bundles] = chr1_store(tmp_path_factory.mktemp("chr1") / name, bundles=bundles)
        publish(stores[bundles], str(www / name))
    return stores


@pytest.mark.slow
@pytest.mark.parametrize("bundles", [True, False], ids=["bundle", "no-bundle"])
def test_chr1_sized_region_queries_read_few_ranges(nginx, chr1_stores, bundles):
    """The goal on a store of chr1's length: a 10 kb region reads the metadata once, the chromosome's
    shard-index bundle once, and per variable only the chunk ranges it spans (inside one chunk: 1 metadata
    + 1 bundle + 2 chunk ranges). A store without a bundle still reads, as before: per variable and
    shard its index, then its chunks. The same query again in the process reads only the chunks."""
    from pipeline.bench.remote import QUERIES, kinds, region
    from pipeline.tracks.query import to_table
    from pipeline.tracks.reader import TrackReader

    store = chr1_stores[bundles]
    url = f"{nginx.url}/{store.name}"
    for name, first in QUERIES.items():
        text = region(first)
        chunks = len({(first - 1) // 65_536, (first + 9_998) // 65_536})
        shards = len({(first - 1) // 1_048_576, (first + 9_998) // 1_048_576})
        expected = to_table(TrackReader(store).select(text, "+"))
        forget_remote_stores()
        nginx.clear_log()
        got = to_table(TrackReader(url).select(text, "+"))
        assert got.equals(expected) and len(got) == 10_000 and not got.isna().all().all()
        requests, _ = kinds(nginx.requests())
        wanted = {"metadata": 1, "bundle": 1} if bundles else {"metadata": 1, "index": 2 * shards}
        assert dict(requests) == {**wanted, "chunk": 2 * chunks}, (name, nginx.requests())
        nginx.clear_log()
        assert to_table(TrackReader(url).select(text, "+")).equals(expected)
        assert dict(kinds(nginx.requests())[0]) == {"chunk": 2 * chunks}, (name, nginx.requests())
    forget_remote_stores()
    nginx.clear_log()
    nothing = to_table(TrackReader(url).select("chr1:1-10,000", "+"))  # a shard never written
    assert nothing.equals(to_table(TrackReader(store).select("chr1:1-10,000", "+")))
    assert nothing.filter(like="_p_splice").isna().all().all()
    absent = {"bundle": 1} if bundles else {"index": 2}  # the bundle says it is absent; else a 404 per variable
    assert dict(kinds(nginx.requests())[0]) == {"metadata": 1, **absent}, nginx.requests()


@pytest.mark.slow
def test_p_splice_and_usage_are_read_at_the_same_time(nginx, chr1_stores):
    """The table's two variables wait on the server together (one round trip, not two), with the same
    requests: the two chunk ranges are in flight at once."""
    import asyncio

    from pipeline.bench.remote import QUERIES, region
    from pipeline.tracks.query import to_table
    from pipeline.tracks.reader import TrackReader

    url = f"{nginx.url}/{chr1_stores[True].name}"
    store = remote_store(url)
    inner, flight = store._store, {"now": 0, "most": 0}
    real_get = inner.get

    async def slow(key, prototype, byte_range=None):
        flight["now"] += 1
        flight["most"] = max(flight["most"], flight["now"])
        try:
            await asyncio.sleep(0.2)  # a distant server
            return await real_get(key, prototype, byte_range)
        finally:
            flight["now"] -= 1

    inner.get = slow
    text = region(QUERIES["inside one chunk"])
    got = to_table(TrackReader(url).select(text, "+"))
    assert got.equals(to_table(TrackReader(chr1_stores[True]).select(text, "+")))
    assert flight["most"] == 2 and store.counts["requests"] == 4  # metadata, bundle, then both chunks at once


def test_datatree_of_24_chromosomes_opens_in_one_request(nginx, small_store, www):
    """A whole-genome store's metadata (24 groups): opening its DataTree costs one request."""
    from pipeline.genome.gene_table import genes_from_attrs
    from pipeline.store.consolidated import consolidate
    from pipeline.store.identity import read_identity
    from pipeline.tracks.layout import create_store

    identity = read_identity(small_store)
    lengths = {f"chr{c}": 50_000_000 for c in [*range(1, 23), "X", "Y"]}
    identity["reference"] = {**identity["reference"], "contigs": lengths}
    keep = {k: v for k, v in identity.items() if k not in ("genes", "job", "inputs", "software_version", "offset")}
    genome = www / "genome.zarr"
    if not genome.exists():
        create_store(genome, keep, genes_from_attrs(identity["genes"]), lengths, identity["job"], identity["inputs"])
        consolidate(genome)
    nginx.clear_log()
    tree = xr.open_datatree(f"{nginx.url}/genome.zarr", engine="pangolin")
    assert len(tree.children) == 24
    assert len(nginx.requests()) <= 3, nginx.requests()
    assert list(tree["chr7"].tissue.values) == ["heart", "liver", "brain", "testis"]


def test_export_from_url_equals_local(nginx, small_store, tmp_path, monkeypatch, capsys):
    for name, where in (("local", small_store), ("remote", f"{nginx.url}/track.zarr")):
        code, _, err = run_cli(monkeypatch, capsys, "export", where, "--format", "bedgraph", "--out", tmp_path / name)
        assert code == 0, err
    files = sorted(p.name for p in (tmp_path / "local").iterdir())
    assert files and files == sorted(p.name for p in (tmp_path / "remote").iterdir())
    for name in files:
        assert (tmp_path / "local" / name).read_bytes() == (tmp_path / "remote" / name).read_bytes()


def test_cache_dir_serves_a_repeated_query(nginx, tmp_path, monkeypatch, capsys):
    url = f"{nginx.url}/track.zarr"
    first = run_cli(monkeypatch, capsys, "query", url, GENE, "--cache", tmp_path / "cache")
    forget_remote_stores()  # as a new process would
    nginx.clear_log()
    again = run_cli(monkeypatch, capsys, "query", url, GENE, "--cache", tmp_path / "cache")
    assert again[:2] == first[:2] and first[0] == 0
    assert data_requests(nginx) == []  # only the root metadata is asked for again


@pytest.mark.parametrize("where, message", [
    ("{url}/nothere.zarr", "is not a Zarr v3 store (no zarr.json there)"),
    ("{url}/forbidden/track.zarr", "access denied (HTTP 403)"),
    ("{url}/notastore", "is a Zarr store but not a Pangolin splice-track store"),
    ("{url}/garbage", "is not a Zarr v3 store (zarr.json is not JSON)"),
    ("{url}/future.zarr", "has format 99"),
    ("{url}/broken/track.zarr", "HTTP 500 (gave up after 3 tries"),
    ("http://127.0.0.1:{free}/track.zarr", "gave up after 3 tries; is the server up?"),
    ("ftp://example.org/track.zarr", "cannot read a store from ftp://example.org/track.zarr"),
], ids=["404", "403", "not-pangolin", "not-json", "future-format", "500", "unreachable", "unknown-scheme"])
def test_errors_are_one_line(nginx, where, message, monkeypatch, capsys):
    url = where.format(url=nginx.url, free=free_port())
    commands = [["query", url, GENE], ["lookup", url, "chr22:1:A:C"]]
    for command in commands[:1] if "format" in message else commands:  # lookup: "a track store, not..."
        code, out, err = run_cli(monkeypatch, capsys, *command)
        assert code == 2 and out == ""
        assert err.count("\n") == 1 and err.startswith("error: ") and message in err, err
        assert "Traceback" not in err


def test_truncated_object_is_an_error_not_a_short_table(nginx, tmp_path, monkeypatch, capsys):
    out = tmp_path / "table.tsv"
    code, _, err = run_cli(monkeypatch, capsys, "query", f"{nginx.url}/truncated.zarr", GENE, "--out", out)
    assert code == 2 and "truncated" in err and err.count("\n") == 1, err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_slow_server_times_out_with_one_line(nginx, monkeypatch, capsys):
    monkeypatch.setenv("PANGOLIN_TIMEOUT", "1")
    monkeypatch.setenv("PANGOLIN_RETRIES", "1")
    start = time.perf_counter()
    code, _, err = run_cli(monkeypatch, capsys, "query", f"{nginx.url}/slow/track.zarr", GENE)
    assert code == 2 and "gave up after 2 tries" in err and err.count("\n") == 1, err
    assert time.perf_counter() - start < 30


def test_server_stopped_mid_query(www, small_store, tmp_path):
    """Opened (metadata read), then the server goes away: the data read fails with a StoreError."""
    from pipeline.tracks.reader import TrackReader

    server = NginxServer(www, tmp_path / "nginx").start()
    try:
        store = TrackReader(f"{server.url}/track.zarr")
        view = store.select(GENE)
    finally:
        server.stop()
    with pytest.raises(StoreError, match="gave up after 3 tries; is the server up"):
        view.load()


def test_retries_then_succeeds(nginx, small_store):
    """A server that fails twice and then answers: the read succeeds (backoff, no error)."""
    import asyncio

    import aiohttp

    store = remote_store(f"{nginx.url}/track.zarr")
    inner, calls = store._store, {"n": 0}
    real_get = inner.get

    async def flaky(key, prototype, byte_range=None):
        calls["n"] += 1
        if calls["n"] <= 2:
            raise aiohttp.ClientConnectionError("connection reset by peer")
        await asyncio.sleep(0)
        return await real_get(key, prototype, byte_range)

    inner.get = flaky
    root = locate(f"{nginx.url}/track.zarr").root
    assert root["attributes"]["format_version"] == 2 and calls["n"] == 3
    assert store.counts["requests"] == 3


def test_publish_refuses_and_resumes(small_store, tmp_path):
    import zarr

    with pytest.raises(StoreError, match="web server is read-only"):
        publish(small_store, "https://example.org/x.zarr")
    target = tmp_path / "pub.zarr"
    order: list[str] = []
    report = publish(small_store, str(target), progress=order.append)
    assert order[-1] == "zarr.json" and report.copied == len(order) and report.already == 0
    again = publish(small_store, str(target))
    assert again.copied == 0 and again.already == report.copied
    victim = next(p for p in target.rglob("c/*/*/*") if p.is_file())
    victim.write_bytes(b"x" * victim.stat().st_size)  # same size, other bytes: caught by the checksum
    fixed = publish(small_store, str(target))
    assert fixed.objects == [victim.relative_to(target).as_posix(), "zarr.json"]  # the root hidden, then last
    assert victim.read_bytes() == (small_store / victim.relative_to(target)).read_bytes()
    unfinished = tmp_path / "unfinished.zarr"
    shutil.copytree(small_store, unfinished)
    zarr.open_array(str(unfinished), path="_tiles/done", mode="r+")[0] = 0
    with pytest.raises(StoreError, match="unfinished: 1 of"):
        publish(unfinished, str(tmp_path / "nope.zarr"))
    assert not (tmp_path / "nope.zarr").exists()


def test_values_match_for_every_position(nginx, small_store):
    """Value for value over the whole scored span of both strands (not just the shown table)."""
    ds = xr.open_dataset(f"{nginx.url}/track.zarr", engine="pangolin", group="chr22")
    here = xr.open_dataset(small_store, engine="pangolin", group="chr22")
    genes = here.pangolin.genes  # the scored span: the gene bodies (1-based), without reading the chromosome
    window = dict(position=slice(int(genes.start.min()) - 1, int(genes.end.max())))
    assert not np.isnan(here.p_splice.isel(**window).values).all()
    np.testing.assert_array_equal(ds.p_splice.isel(**window).values, here.p_splice.isel(**window).values)
    np.testing.assert_array_equal(ds.usage.isel(**window).values, here.usage.isel(**window).values)
