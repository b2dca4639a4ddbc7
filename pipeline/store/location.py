"""Where a store lives: a local path, or a URL read over the network (read-only).

Every reader turns what the user gave into a `StoreLocation` and asks it for the Zarr store object
(`StoreLocation.zarr_store`) and for small metadata documents, so URL handling lives here only.

URLs go through zarr's `FsspecStore`: ``https://``/``http://`` (any static web server that answers
range requests; aiohttp), ``s3://`` (s3fs: the usual AWS credentials chain, anonymous when there
are no credentials, ``AWS_ENDPOINT_URL`` for S3-compatible servers) and ``gs://`` (gcsfs: Google's
credentials where this machine has some, see `have_google_credentials`, else anonymous;
``STORAGE_EMULATOR_HOST`` for an emulator, read anonymously). fsspec rather than obstore: zarr and
dask already depend on it, its HTTP filesystem speaks to a plain web server (obstore's HTTP store
expects WebDAV-style listings for some calls), and s3fs/gcsfs come from the same family.

Remote reads are wrapped (`RemoteStore`) so that:

- metadata documents (``zarr.json``) are fetched once per process: a published store never
  changes them, and the root one (consolidated metadata, read by every opener) is one request;
- a failed request (connection refused or reset, timeout, 5xx) is retried with exponential backoff
  (``PANGOLIN_RETRIES``, default 4 retries, ``PANGOLIN_TIMEOUT`` seconds per request, default 30),
  then becomes one `StoreError` naming the URL; 403 and other 4xx are not retried (gs:// is retried
  by gcsfs itself, not again here);
- a shard's index (a suffix read) is read with up to ``PANGOLIN_TAIL`` bytes (default 64 KiB) before it:
  a shard smaller than that comes whole in that one request and its chunks are then served from
  memory, so a lookup in a sparse all-SNV store costs one request per shard touched;
- shard indexes are kept in memory once read (a published shard never changes), so a later query
  in the same shard asks only for its chunk ranges;
- where the store has a shard-index bundle for a group (shard_indexes.py; listed in the consolidated
  metadata), it is read once (one request) and every shard index of that group comes from it: a
  query then reads only its chunk ranges, a shard the bundle does not list is absent without a
  request (zarr reads fill values, as for a missing object), and a shard smaller than
  ``PANGOLIN_TAIL`` is read whole at its first chunk (one request per shard, as without a bundle);
  stores without bundles are read as before;
- a byte range that comes back short (a truncated object) is an error, never a short chunk;
- with ``PANGOLIN_CACHE=DIR`` (the CLI's ``--cache DIR``) every byte range read is kept on disk and
  a repeated query reads nothing from the network;
- requests and bytes are counted (`RemoteStore.counts`), for reports and tests.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import os
import re
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from ..errors import StoreError
from . import shard_indexes

SCHEMES = ("http://", "https://", "s3://", "gs://", "gcs://")
MANIFEST = "_tiles"
CACHE_ENV = "PANGOLIN_CACHE"
COUNTS = ("requests", "bytes", "cache_hits", "index_hits", "bundle_hits")  # what a remote store counts


def is_url(where: Any) -> bool:
    """Whether ``where`` names a store by URL (a scheme this module reads) rather than a path."""
    return isinstance(where, str) and where.lower().startswith(SCHEMES)


def _is_scheme(where: Any) -> bool:
    return isinstance(where, str) and re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", where) is not None \
        and not where.startswith("file://")


@dataclass(frozen=True)
class StoreLocation:
    """A store's location: ``path`` for a local store, ``url`` for a remote one (exactly one is set)."""

    text: str
    path: Path | None = None
    url: str | None = None

    def __str__(self) -> str:
        return self.text

    @property
    def remote(self) -> bool:
        return self.url is not None

    @property
    def name(self) -> str:
        """The store's last component (``example.zarr``), for messages."""
        return self.path.name if self.path is not None else self.url.rstrip("/").rsplit("/", 1)[-1]

    def zarr_store(self) -> Any:
        """What zarr and xarray open: the path as a string (local, unchanged) or a read-only `RemoteStore`."""
        return str(self.path) if self.path is not None else remote_store(self.url)

    def read_json(self, key: str) -> dict[str, Any] | None:
        """The JSON document ``key`` of the store (e.g. ``zarr.json``), None where there is none.

        Raises `StoreError` for a document that is not JSON or a location that cannot be read.
        """
        if self.path is not None:
            try:
                text = (self.path / key).read_text()
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                return None
        else:
            data = remote_store(self.url).read(key)
            if data is None:
                return None
            text = data.decode("utf-8", errors="replace")
        try:
            return json.loads(text)
        except ValueError:
            raise StoreError(f"{self.text} is not a Zarr v3 store ({key} is not JSON)") from None

    @cached_property
    def root(self) -> dict[str, Any] | None:
        """The root ``zarr.json`` (remote: read once; it carries the consolidated metadata)."""
        return self.read_json("zarr.json")

    def consolidated(self) -> dict[str, Any] | None:
        """The consolidated metadata of every node below the root (key -> metadata), if the store has it."""
        meta = (self.root or {}).get("consolidated_metadata")
        return meta.get("metadata", {}) if isinstance(meta, dict) else None

    def has_node(self, key: str) -> bool:
        """Whether group or array ``key`` (``chr22``, ``_tiles/done``) exists, from the consolidated
        metadata when there is some (no request), else by asking for its ``zarr.json``."""
        if self.path is not None:
            return (self.path / key / "zarr.json").is_file()
        nodes = self.consolidated()
        if nodes is not None:
            return key in nodes
        return self.read_json(f"{key}/zarr.json") is not None

    def groups(self) -> list[str]:
        """The top-level groups (chromosomes and ``_tiles``), sorted."""
        if self.path is not None:
            return sorted(p.name for p in self.path.iterdir() if (p / "zarr.json").is_file())
        nodes = self.consolidated()
        if nodes is None:
            raise StoreError(f"{self.text} has no consolidated metadata, which a store read by URL needs: "
                             "publish it with `pangolin-pipeline publish`")
        return sorted(k for k, v in nodes.items() if "/" not in k and v.get("node_type") == "group")

    def exists(self) -> bool:
        """Whether anything is there: the folder (local) or a root ``zarr.json`` (remote)."""
        return self.path.exists() if self.path is not None else self.root is not None


def locate(where: str | os.PathLike | StoreLocation) -> StoreLocation:
    """The location of a store given as a path, a ``file://`` URL or a remote URL.

    Raises `StoreError` for a URL scheme no reader here speaks.
    """
    if isinstance(where, StoreLocation):
        return where
    text = os.fspath(where)
    if is_url(text):
        scheme = text.split("://", 1)[0].lower()
        return StoreLocation(text, url=("gs" if scheme == "gcs" else scheme) + text[len(scheme):].rstrip("/"))
    if text.startswith("file://"):
        return StoreLocation(text, path=Path(text.removeprefix("file://")))
    if _is_scheme(text):
        raise StoreError(f"cannot read a store from {text}: the schemes read are "
                         f"{', '.join(s.removesuffix('://') for s in SCHEMES[:4])} and local paths")
    return StoreLocation(text, path=Path(text))


# --- remote reads ------------------------------------------------------------------------------

_STORES: dict[str, Any] = {}
_STORES_LOCK = threading.Lock()


def remote_store(url: str) -> Any:
    """The process's one `RemoteStore` for ``url`` (so metadata read once serves every opener)."""
    with _STORES_LOCK:
        if url not in _STORES:
            _STORES[url] = _make_remote_store(url)
        return _STORES[url]


def forget_remote_stores() -> None:
    """Drop the per-process stores (their cached metadata and counts): for tests and long-lived services."""
    with _STORES_LOCK:
        _STORES.clear()


def storage_options(url: str, timeout: float | None = None) -> dict[str, Any]:
    """fsspec options for ``url``: timeouts (http, gs), credentials or anonymous access (s3, gs)."""
    timeout = timeout if timeout is not None else float(os.environ.get("PANGOLIN_TIMEOUT", "30"))
    if url.startswith(("http://", "https://")):
        import aiohttp

        return {"client_kwargs": {"timeout": aiohttp.ClientTimeout(total=timeout, sock_connect=min(timeout, 10))}}
    if url.startswith(("gs://", "gcs://")):
        import aiohttp

        emulated = bool(os.environ.get("STORAGE_EMULATOR_HOST"))  # gcsfs sends every request there
        # gcsfs passes requests_timeout to each request; its default (None) would mean no time limit
        return {"token": None if have_google_credentials() and not emulated else "anon",
                "requests_timeout": aiohttp.ClientTimeout(total=timeout, sock_connect=min(timeout, 10))}
    if url.startswith("s3://"):
        options: dict[str, Any] = {"config_kwargs": {"connect_timeout": min(timeout, 10), "read_timeout": timeout,
                                                     "retries": {"max_attempts": 1}}}
        if os.environ.get("AWS_ENDPOINT_URL"):
            options["endpoint_url"] = os.environ["AWS_ENDPOINT_URL"]
        if not _have_aws_credentials():
            options["anon"] = True  # a public bucket
        return options
    return {}


def have_google_credentials() -> bool:
    """Whether this machine has Google credentials that need no network to find: a key file named by
    ``GOOGLE_APPLICATION_CREDENTIALS``, gcloud's application-default login, or a Compute Engine VM
    (its metadata server serves them). Then gcsfs looks them up itself (token None); elsewhere gs://
    is read anonymously (public buckets), because gcsfs's lookup would probe the metadata server,
    which costs seconds of waiting on a machine outside Google Cloud."""
    if os.environ.get("GOOGLE_APPLICATION_CREDENTIALS"):
        return True
    gcloud = Path(os.environ.get("CLOUDSDK_CONFIG") or Path.home() / ".config" / "gcloud")
    if (gcloud / "application_default_credentials.json").is_file():
        return True
    try:  # Compute Engine names itself in the DMI tables, readable without a request
        return Path("/sys/class/dmi/id/product_name").read_text().startswith("Google")
    except OSError:
        return False


def filesystem(url: str, asynchronous: bool = False) -> tuple[Any, str]:
    """The fsspec filesystem of ``url`` (with `storage_options`) and the path in it.

    gs:// takes gcsfs's plain `GCSFileSystem` (the JSON API over HTTP, one request per byte range),
    not the class gcsfs registers by default, which first asks Google's gRPC storage-control API
    for each bucket's layout, again for every read where that fails (anonymous access, emulators:
    a minute of retries each). Zonal (Rapid) buckets need that class: setting
    ``GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT`` (to anything) leaves the choice to gcsfs.

    Raises ImportError where the scheme's library is missing, ValueError for an unknown scheme.
    """
    import fsspec

    options = storage_options(url)
    if url.startswith(("gs://", "gcs://")) and "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT" not in os.environ:
        from gcsfs.core import GCSFileSystem

        fs = GCSFileSystem(asynchronous=asynchronous, **options)
        return fs, fs._strip_protocol(url)
    return fsspec.core.url_to_fs(url, asynchronous=asynchronous, **options)


def _have_aws_credentials() -> bool:
    try:
        import botocore.session

        return botocore.session.get_session().get_credentials() is not None
    except Exception:  # no botocore, or a broken config: try anonymously
        return False


def _make_remote_store(url: str) -> Any:
    try:
        from zarr.storage import FsspecStore
    except ImportError:  # pragma: no cover - fsspec is a dependency
        raise StoreError("reading stores by URL needs fsspec: pip install fsspec aiohttp") from None
    scheme = url.split("://", 1)[0]
    try:
        fs, path = filesystem(url, asynchronous=True)
        inner = FsspecStore(fs, path=path, read_only=True)
    except ImportError as missing:
        extra = {"s3": "s3fs", "gs": "gcsfs"}.get(scheme, "aiohttp")
        raise StoreError(f"reading {scheme}:// URLs needs {extra}: pip install '{extra}' ({missing})") from None
    except ValueError as err:  # fsspec: unknown protocol
        raise StoreError(f"cannot read a store from {url}: {err}") from None
    return _remote_store_class()(inner, url)


def _transient(err: BaseException) -> bool:
    """Whether a failed read may succeed when tried again (network trouble, server errors)."""
    try:
        import aiohttp
    except ImportError:  # pragma: no cover
        aiohttp = None
    if aiohttp is not None and isinstance(err, aiohttp.ClientResponseError):
        return err.status >= 500 or err.status in (408, 429)
    if aiohttp is not None and isinstance(err, aiohttp.ClientError):
        return True  # connection refused/reset, payload cut short
    if isinstance(err, asyncio.TimeoutError | TimeoutError | ConnectionError):
        return True
    status = _status(err)
    if status is not None:
        return status >= 500 or status in (408, 429)
    name = type(err).__name__
    return name in ("EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError", "ConnectionClosedError",
                    "ResponseStreamingError")


def _status(err: BaseException) -> int | None:
    status = getattr(err, "status", None) or getattr(err, "status_code", None)
    response = getattr(err, "response", None)
    if status is None and isinstance(response, dict):  # botocore ClientError
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return int(status) if isinstance(status, int) else None


def describe_error(err: BaseException) -> str:
    """One line for a failed network or storage operation (403s named as such)."""
    status = _status(err)
    if status == 403 or isinstance(err, PermissionError):
        return "access denied (HTTP 403): the store is not public, or credentials are missing or wrong"
    if status == 416:
        return ("HTTP 416: the object is shorter than its shard index says (truncated or replaced: "
                "republish the store)")
    if status is not None:
        return f"HTTP {status}"
    text = " ".join(str(err).split()) or type(err).__name__
    return f"{type(err).__name__}: {text}" if type(err).__name__ not in text else text


_CLASS: list[type] = []


def _remote_store_class() -> type:
    """`RemoteStore`, defined on first use so that importing this module imports no zarr."""
    if _CLASS:
        return _CLASS[0]
    from zarr.abc.store import RangeByteRequest, SuffixByteRequest
    from zarr.core.buffer import default_buffer_prototype
    from zarr.core.sync import sync
    from zarr.storage import WrapperStore

    class RemoteStore(WrapperStore):
        """A read-only remote store with retries, a metadata memo, an optional disk cache and counts."""

        def __init__(self, store: Any, url: str = "") -> None:
            super().__init__(store)
            self.url = url or getattr(store, "path", "")
            # gcsfs retries each request itself (6 tries, backoff up to 32 s): ours would multiply them
            self.retries = 0 if self.url.startswith("gs://") else int(os.environ.get("PANGOLIN_RETRIES", "4"))
            self.backoff = float(os.environ.get("PANGOLIN_BACKOFF", "0.25"))
            cache = os.environ.get(CACHE_ENV)
            self.cache_dir = Path(cache) if cache else None
            self.counts = dict.fromkeys(COUNTS, 0)
            self._memo: dict[str, bytes | None] = {}
            self.tail = int(os.environ.get("PANGOLIN_TAIL", str(64 * 1024)))
            self._whole: OrderedDict[str, bytes] = OrderedDict()  # small objects that came whole with their index
            self._whole_limit = 256
            self._indexes: OrderedDict[tuple[str, int], bytes] = OrderedDict()  # shard indexes read so far
            self._indexes_limit = 16_384  # ~4 MB of 16-chunk indexes
            self._nodes: dict[str, Any] | None = None  # the consolidated metadata, parsed once
            self._bundles: dict[str, dict[str, Any] | None] = {}  # group -> its shard-index bundle (None: none)
            self._bundle_locks: dict[str, asyncio.Lock] = {}  # one fetch per bundle when shards are read at once

        def _with_store(self, store: Any) -> RemoteStore:
            return type(self)(store, self.url)

        def __repr__(self) -> str:
            return f"RemoteStore({self.url})"

        def __eq__(self, other: object) -> bool:
            return isinstance(other, RemoteStore) and other.url == self.url

        __hash__ = object.__hash__

        @property
        def read_only(self) -> bool:
            return True

        def read(self, key: str) -> bytes | None:
            """The whole object ``key`` (memoised if metadata), None if absent; from synchronous code."""
            buffer = sync(self.get(key, default_buffer_prototype()))
            return None if buffer is None else buffer.to_bytes()

        def _cache_file(self, key: str, byte_range: Any) -> Path | None:
            if self.cache_dir is None:
                return None
            digest = hashlib.sha256(f"{self.url}/{key}|{byte_range!r}".encode()).hexdigest()
            return self.cache_dir / digest[:2] / digest

        async def get(self, key: str, prototype: Any, byte_range: Any = None) -> Any:
            metadata = byte_range is None and key.rsplit("/", 1)[-1] == "zarr.json"
            if metadata and key in self._memo:
                data = self._memo[key]
                return None if data is None else prototype.buffer.from_bytes(data)
            whole = None if metadata else self._from_whole(key, byte_range)
            if whole is not None:
                return prototype.buffer.from_bytes(whole)
            bundled = None if metadata else await self._from_bundle(key, prototype, byte_range)
            if bundled is not None:
                data = bundled[0]
                return None if data is None else prototype.buffer.from_bytes(data)
            index = self._remembered_index(key, byte_range)
            if index is not None:
                return prototype.buffer.from_bytes(index)
            cached = self._cache_file(key, byte_range) if not metadata else None
            if cached is not None and cached.is_file():
                self.counts["cache_hits"] += 1
                return prototype.buffer.from_bytes(cached.read_bytes())
            if isinstance(byte_range, SuffixByteRequest) and byte_range.suffix < self.tail:
                data = await self._fetch_tail(key, prototype, byte_range.suffix)
            else:
                data = await self._fetch(key, prototype, byte_range)
            if isinstance(byte_range, SuffixByteRequest) and data is not None:
                self._check_index(key, data)
                self._remember_index(key, byte_range, data)
            if metadata:
                self._memo[key] = data
            elif cached is not None and data is not None:
                self._write_cache(cached, data)
            return None if data is None else prototype.buffer.from_bytes(data)

        async def _from_bundle(self, key: str, prototype: Any, byte_range: Any) -> tuple[bytes | None] | None:
            """A shard's bytes answered through its group's bundle, as a 1-tuple (``(None,)``: the shard does
            not exist), or None where the bundle has nothing to say (no bundle, not a bundled array)."""
            array, chunk, _ = key.partition("/c/")
            if not chunk or array.startswith(f"{shard_indexes.GROUP}/"):
                return None
            bundle = await self._bundle(array.split("/", 1)[0])
            if bundle is None or array not in bundle["arrays"]:
                return None
            entry = shard_indexes.lookup(bundle, key)
            if entry is None:
                return (None,)  # the shard was never written: no request, as zarr would get for a missing object
            size, index = entry
            if isinstance(byte_range, SuffixByteRequest) and byte_range.suffix == len(index):
                self._check_index(key, index)
                self.counts["bundle_hits"] += 1
                return (index,)
            if isinstance(byte_range, RangeByteRequest) and size <= self.tail:
                data = await self._fetch_whole(key, prototype, size)  # later ranges of it come from memory
                return (data[byte_range.start:byte_range.end],)
            if byte_range is None:  # the whole shard: its size is known, so a truncated one is named as such
                if size <= self.tail:  # kept whole, in memory and the disk cache, by _fetch_whole
                    return (await self._fetch_whole(key, prototype, size),)
                cached = self._cache_file(key, None)
                if cached is not None and cached.is_file():
                    self.counts["cache_hits"] += 1
                    return (cached.read_bytes(),)
                data = await self._fetch_whole(key, prototype, size)
                self._write_cache(cached, data)
                return (data,)
            return None  # a chunk of a large shard: one request as usual

        async def _bundle(self, group: str) -> dict[str, Any] | None:
            """The shard-index bundle of ``group``, read once (None where the store has none for it)."""
            if group not in self._bundles:
                lock = self._bundle_locks.setdefault(group, asyncio.Lock())
                async with lock:
                    if group not in self._bundles:
                        if self._memo.get("zarr.json") is None:
                            return None  # not opened through the root: nothing known yet, ask again later
                        self._bundles[group] = await self._read_bundle(group)
            return self._bundles[group]

        async def _read_bundle(self, group: str) -> dict[str, Any] | None:
            meta = (self._consolidated() or {}).get(f"{shard_indexes.GROUP}/{group}")
            if not meta or tuple(c.get("name") for c in meta.get("codecs", [])) != shard_indexes.CODECS \
                    or meta.get("chunk_grid", {}).get("configuration", {}).get("chunk_shape") != meta.get("shape") \
                    or meta.get("chunk_key_encoding", {}).get("name") != "default":
                return None  # a store made before bundles (or one this reader cannot decode): shard by shard
            key = shard_indexes.bundle_key(group)
            where = f"{self.url}/{key}"
            buffer = await self.get(key, default_buffer_prototype())
            if buffer is None:
                raise StoreError(f"cannot read {where}: the store lists this shard-index bundle but it is missing "
                                 "(republish the store)")
            try:
                data = gzip.decompress(buffer.to_bytes())
            except (OSError, EOFError, zlib.error):
                raise StoreError(f"cannot read {where}: the shard-index bundle is corrupt (republish the store)") \
                    from None
            return shard_indexes.decode(data[: meta["shape"][0]], where)

        async def _fetch_whole(self, key: str, prototype: Any, size: int) -> bytes:
            """A shard, whole (its size from the bundle); kept for its later chunk ranges if small."""
            data = await self._fetch(key, prototype, None)
            if data is None or len(data) != size:
                raise StoreError(f"cannot read {self.url}/{key}: " + (
                    "missing, though its store's shard-index bundle lists it" if data is None else
                    f"{len(data)} bytes came back for an object of {size} (it is truncated or was replaced: "
                    "republish the store)"))
            if size <= self.tail:
                self._keep_whole(key, data)
            return data

        def _keep_whole(self, key: str, data: bytes) -> None:
            """Keep a small object that came whole (memory, and the disk cache if any): its ranges need no request."""
            self._whole[key] = data
            self._write_cache(self._cache_file(key, "whole"), data)
            if len(self._whole) > self._whole_limit:
                self._whole.popitem(last=False)

        def _remembered_index(self, key: str, byte_range: Any) -> bytes | None:
            if not isinstance(byte_range, SuffixByteRequest):
                return None
            index = self._indexes.get((key, byte_range.suffix))
            if index is not None:
                self._indexes.move_to_end((key, byte_range.suffix))
                self.counts["index_hits"] += 1
            return index

        def _remember_index(self, key: str, byte_range: Any, index: bytes) -> None:
            self._indexes[(key, byte_range.suffix)] = index
            if len(self._indexes) > self._indexes_limit:
                self._indexes.popitem(last=False)

        @staticmethod
        def _write_cache(path: Path | None, data: bytes) -> None:
            if path is None:
                return
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.part")
            partial.write_bytes(data)
            partial.replace(path)  # never a half-written block for the next reader

        def _check_index(self, key: str, index: bytes) -> None:
            """A shard index must pass its CRC32C (when its array has one): a truncated object's
            "index" is the middle of its data, which zarr would report only as a checksum mismatch."""
            array = key.split("/c/", 1)[0] if "/c/" in key else key.rsplit("/c", 1)[0]
            meta = (self._consolidated() or {}).get(array) or {}
            codecs = [c for c in meta.get("codecs", []) if c.get("name") == "sharding_indexed"]
            index_codecs = codecs[0].get("configuration", {}).get("index_codecs", []) if codecs else []
            if not any(c.get("name") == "crc32c" for c in index_codecs) or len(index) < 4:
                return
            import google_crc32c

            if google_crc32c.value(index[:-4]) != int.from_bytes(index[-4:], "little"):
                raise StoreError(f"cannot read {self.url}/{key}: its shard index fails its checksum (the object is "
                                 "truncated or corrupt: republish the store)")

        def _consolidated(self) -> dict[str, Any] | None:
            if self._nodes is None:
                root = self._memo.get("zarr.json")
                if not root:
                    return None
                try:
                    self._nodes = (json.loads(root).get("consolidated_metadata") or {}).get("metadata") or {}
                except ValueError:
                    self._nodes = {}
            return self._nodes

        async def _fetch(self, key: str, prototype: Any, byte_range: Any, exact: bool = True) -> bytes | None:
            where = f"{self.url}/{key}"
            for attempt in range(self.retries + 1):
                self.counts["requests"] += 1
                try:
                    buffer = await self._store.get(key, prototype, byte_range)
                except Exception as err:  # the filesystems raise many kinds; sorted by _transient
                    if not _transient(err):
                        raise StoreError(f"cannot read {where}: {describe_error(err)}") from None
                    if attempt == self.retries:
                        raise StoreError(f"cannot read {where}: {describe_error(err)} (gave up after {attempt + 1} "
                                         "tries; is the server up?)") from None
                    await asyncio.sleep(self.backoff * 2 ** attempt)
                    continue
                if buffer is None:
                    return None
                data = buffer.to_bytes()
                self.counts["bytes"] += len(data)
                if exact:
                    _check_length(where, byte_range, len(data))
                return data
            return None  # pragma: no cover - the loop returns or raises

        def _from_whole(self, key: str, byte_range: Any) -> bytes | None:
            data = self._whole.get(key)
            if data is None and self.cache_dir is not None:
                whole = self._cache_file(key, "whole")
                if whole.is_file():
                    data = self._whole[key] = whole.read_bytes()
                    self.counts["cache_hits"] += 1
            if data is None:
                return None
            self._whole.move_to_end(key)
            if byte_range is None:
                return data
            if isinstance(byte_range, RangeByteRequest):
                return data[byte_range.start:byte_range.end] if byte_range.end <= len(data) else None
            if isinstance(byte_range, SuffixByteRequest):
                return data[-byte_range.suffix:] if byte_range.suffix <= len(data) else None
            return data[byte_range.offset:]

        async def _fetch_tail(self, key: str, prototype: Any, suffix: int) -> bytes | None:
            """The last ``suffix`` bytes, asking for ``self.tail``: a smaller object comes whole and is kept."""
            data = await self._fetch(key, prototype, SuffixByteRequest(self.tail), exact=False)
            if data is None:
                return None
            if len(data) < self.tail:  # the whole object: later ranges of it need no request
                self._keep_whole(key, data)
            if len(data) < suffix:
                raise StoreError(f"cannot read {self.url}/{key}: the object has {len(data)} bytes, less than its "
                                 f"{suffix}-byte index (it is truncated: republish the store)")
            return data[-suffix:]

        async def exists(self, key: str) -> bool:
            if key in self._memo:
                return self._memo[key] is not None
            try:
                return await self._store.exists(key)
            except Exception as err:
                raise StoreError(f"cannot read {self.url}/{key}: {describe_error(err)}") from None

        async def get_partial_values(self, prototype: Any, key_ranges: Any) -> list[Any]:
            return [await self.get(key, prototype, byte_range) for key, byte_range in key_ranges]

    def _check_length(where: str, byte_range: Any, got: int) -> None:
        if isinstance(byte_range, RangeByteRequest):
            wanted = byte_range.end - byte_range.start
        elif isinstance(byte_range, SuffixByteRequest):
            wanted = byte_range.suffix
        else:
            return  # whole objects and open-ended ranges: the length is whatever the object has
        if got != wanted:
            raise StoreError(f"cannot read {where}: {got} bytes came back for a range of {wanted} (the object "
                             "is truncated or was replaced while being read: republish the store)")

    _CLASS.append(RemoteStore)
    return RemoteStore


def request_counts(where: str | StoreLocation) -> dict[str, int]:
    """Requests, bytes and disk-cache hits so far for a remote store (zeros for a local one)."""
    location = locate(where)
    if location.url is None or location.url not in _STORES:
        return dict.fromkeys(COUNTS, 0)
    return dict(_STORES[location.url].counts)


def absolute(where: str | os.PathLike) -> str:
    """A store argument made independent of the working directory (for other processes): URLs as given."""
    text = os.fspath(where)
    return text if is_url(text) else str(Path(text).absolute())


def use_cache(directory: str | os.PathLike | None) -> None:
    """Keep the byte ranges read from remote stores in ``directory`` (``--cache``), for this process
    and the workers it starts; stores opened before keep their setting."""
    if directory is not None:
        Path(directory).mkdir(parents=True, exist_ok=True)
        os.environ[CACHE_ENV] = str(Path(directory).absolute())
