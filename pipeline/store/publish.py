"""Publishing a finished store: copy it to object storage (``s3://``, ``gs://``) or to a folder that a
web server serves, so that readers can open it by URL (location.py).

Order makes it safe to read at any moment: a store is readable by URL only through its root
``zarr.json`` (which carries the consolidated metadata), so that document is taken away first when
it would change, every other object is copied and verified, and the root is written last. A reader
therefore sees the old store, no store ("not a Zarr v3 store"), or the whole new one; never half.

Only current shard-index bundles (shard_indexes.py) are published: a store whose shards were written
after its last consolidation is refused until ``finalize`` rewrites them, so a published bundle always
describes the published shards.

Resumable without a state file: an object already at the destination with the same size and MD5
(the S3 ETag of a single-part upload, GCS's md5Hash, else read back) is not copied again. Every object copied is
verified the same way after the upload.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import StoreError
from . import shard_indexes
from .consolidated import is_consolidated
from .identity import read_identity
from .location import describe_error, filesystem, is_url
from .manifest import Manifest

ROOT = "zarr.json"
SKIP = ("lock.json",)  # the run lock (see lock.py): no part of the published store


@dataclass
class PublishReport:
    """What `publish` did: objects copied, found already there (a resumed publish), bytes copied."""

    destination: str
    copied: int = 0
    already: int = 0
    bytes: int = 0
    objects: list[str] = field(default_factory=list)


def publish(source: str | Path, destination: str, progress: Callable[[str], None] | None = None) -> PublishReport:
    """Copy the finished store ``source`` to ``destination`` (URL or folder), verified, root last.

    Raises
    ------
    StoreError
        ``source`` is not a store, is unfinished (creation or tiles), has no consolidated metadata,
        the destination is read-only (http) or cannot be written, or an object fails verification.
    """
    src = Path(source)
    if is_url(str(source)):
        raise StoreError(f"publish copies a local store; {source} is a URL")
    if not src.is_dir():
        raise StoreError(f"{src} does not exist" if not src.exists() else f"{src} is not a store folder")
    read_identity(src)  # refuses what is no store, or one whose creation did not finish
    status = Manifest(src).status()
    if status["missing"]:
        raise StoreError(f"store {src} is unfinished: {len(status['missing'])} of {status['tiles_total']} tiles "
                         f"are not done (e.g. {status['missing'][0]}); finish it (re-run the command that made it) "
                         "before publishing")
    if not is_consolidated(src):
        raise StoreError(f"store {src} has no consolidated metadata: run `pangolin-pipeline finalize {src}` first")
    stale = shard_indexes.stale(src)  # shards written after the last consolidation (e.g. array parts)
    if stale:
        raise StoreError(f"store {src} has shard-index bundles older than its shards ({', '.join(stale[:3])}): run "
                         f"`pangolin-pipeline finalize {src}` first")
    fs, root = _destination(destination)
    report = PublishReport(destination)
    objects = sorted(p.relative_to(src).as_posix() for p in src.rglob("*")
                     if p.is_file() and p.name not in SKIP and not p.name.startswith("."))
    objects.remove(ROOT)
    published_root = _join(root, ROOT)
    root_there = _matches(fs, published_root, src / ROOT)
    if not root_there:
        _remove(fs, published_root)  # a different store was there: readers now see none until the end
    for name in [*objects, ROOT]:
        local, target = src / name, _join(root, name)
        if _matches(fs, target, local):
            report.already += 1
            continue
        if root_there:  # something under a published root changes: hide the root first
            _remove(fs, published_root)
            root_there = False
        _upload(fs, local, target)
        if not _matches(fs, target, local):
            raise StoreError(f"verification failed for {target}: what arrived differs from {local} (size or "
                             "MD5); run publish again to copy it again")
        report.copied += 1
        report.bytes += local.stat().st_size
        report.objects.append(name)
        if progress is not None:
            progress(name)
    return report


def _destination(destination: str) -> tuple[Any, str]:
    """An fsspec filesystem and the root path in it; http(s) is refused (web servers are read-only)."""
    import fsspec

    text = os.fspath(destination).rstrip("/")
    if text.lower().startswith(("http://", "https://")):
        raise StoreError(f"cannot publish to {text}: a web server is read-only here; publish to the folder it "
                         "serves (a path) or to s3:// / gs://")
    if text.startswith("file://"):
        text = text.removeprefix("file://")
    if "://" not in text:
        path = Path(text).absolute()
        if path.exists() and not path.is_dir():
            raise StoreError(f"cannot publish to {path}: it exists and is not a folder")
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise StoreError(f"cannot publish to {path}: {err.strerror or err}") from None
        return fsspec.filesystem("file"), str(path)
    scheme = text.split("://", 1)[0]
    try:
        fs, root = filesystem(text)
    except ImportError:
        extra = {"s3": "s3fs", "gs": "gcsfs", "gcs": "gcsfs"}.get(scheme, scheme)
        raise StoreError(f"publishing to {scheme}:// needs {extra}: pip install '{extra}'") from None
    except ValueError as err:
        raise StoreError(f"cannot publish to {text}: {err}") from None
    return fs, root


def _join(root: str, name: str) -> str:
    return f"{root}/{name}"


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _matches(fs: Any, target: str, local: Path) -> bool:
    """Whether ``target`` holds exactly the bytes of ``local`` (size, then MD5 by ETag or read back)."""
    try:
        info = fs.info(target)
    except FileNotFoundError:
        return False
    except Exception as err:  # permissions, unreachable endpoint: one line
        raise StoreError(f"cannot publish to {target}: {_why(err)}") from None
    if info.get("type") == "directory" or info.get("size") != local.stat().st_size:
        return False
    etag = str(info.get("ETag") or info.get("etag") or "").strip('"')
    if etag and "-" not in etag and len(etag) == 32:  # S3 single-part upload: the ETag is the MD5
        return etag == _md5(local)
    if info.get("md5Hash"):  # GCS: the MD5, base64 (composite objects have none)
        return base64.b64decode(info["md5Hash"]).hex() == _md5(local)
    try:
        data = fs.cat_file(target)
    except Exception as err:
        raise StoreError(f"cannot verify {target}: {_why(err)}") from None
    return hashlib.md5(data, usedforsecurity=False).hexdigest() == _md5(local)


def _upload(fs: Any, local: Path, target: str) -> None:
    try:
        parent = target.rsplit("/", 1)[0]
        from fsspec.implementations.local import LocalFileSystem

        if isinstance(fs, LocalFileSystem):
            fs.makedirs(parent, exist_ok=True)
            partial = f"{target}.publishing"
            fs.put_file(str(local), partial)
            os.replace(partial, target)  # a web server never serves a half-written file
        else:
            fs.put_file(str(local), target)  # an object store shows an object only once it is whole
    except Exception as err:
        raise StoreError(f"cannot publish {local} to {target}: {_why(err)}") from None


def _remove(fs: Any, target: str) -> None:
    try:
        fs.rm_file(target)
    except FileNotFoundError:
        pass
    except Exception as err:
        raise StoreError(f"cannot publish to {target}: {_why(err)}") from None


def _why(err: BaseException) -> str:
    return describe_error(err)
