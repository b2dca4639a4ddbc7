"""Shard-index bundles: every shard index of a chromosome group gathered in one small object, so that a
reader by URL asks for them once instead of once per shard (location.py's `RemoteStore`).

Zarr's sharding codec reads a shard's index (with ``index_location`` end: the last
``16 * chunks per shard + 4`` bytes, offset and length of each chunk as little-endian uint64 pairs,
then a CRC32C of them) before any chunk of the shard. The format of the arrays is unchanged; the
bundle is a copy of those bytes, written when the store's metadata is consolidated (the end of every
run, resume and ``finalize``; consolidated.py), so a finished store's bundles describe its shards.

Layout: a Zarr group ``_shard_indexes`` at the root with one uint8 array per group that has sharded
arrays (``_shard_indexes/chr1``: one chunk, gzip), so plain Zarr and xarray readers see an ordinary
node and the consolidated metadata tells readers which bundles exist (no request for stores made
before). Its bytes are JSON::

    {"format": 1,
     "arrays": {"chr1/p_splice": {"index_bytes": 260,
                                  "shards": {"0/95/0": [1345556, "<base64 of the shard's last 260 bytes>"]}}}}

Keys under ``shards`` are the shard's chunk key after ``c/``; the number is the shard object's size
in bytes. A shard of a listed array that is not listed does not exist (its values are the fill value).
"""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path
from typing import Any

from ..errors import StoreError

GROUP = "_shard_indexes"
FORMAT = 1
CODECS = ("bytes", "gzip")  # the bundle array's codecs, which readers decode without zarr


def bundle_key(group: str) -> str:
    """The store key of the one chunk of ``group``'s bundle array."""
    return f"{GROUP}/{group}/c/0"


def index_bytes(meta: dict[str, Any]) -> int | None:
    """The size of a shard's index for array metadata ``meta`` (zarr.json), or None where the array is
    not one whose indexes are bundled: sharded with the index at the end in zarr's default index
    codecs (little-endian bytes, optionally CRC32C) and chunk keys ``c/...``."""
    codecs = meta.get("codecs") or []
    if meta.get("node_type") != "array" or len(codecs) != 1 or codecs[0].get("name") != "sharding_indexed":
        return None
    config = codecs[0].get("configuration", {})
    index_codecs = [c.get("name") for c in config.get("index_codecs", [])]
    endian = next((c.get("configuration", {}).get("endian", "little") for c in config.get("index_codecs", [])
                   if c.get("name") == "bytes"), "little")
    encoding = meta.get("chunk_key_encoding", {})
    if config.get("index_location", "end") != "end" or index_codecs not in (["bytes"], ["bytes", "crc32c"]) \
            or endian != "little" or encoding.get("name") != "default" \
            or encoding.get("configuration", {}).get("separator", "/") != "/":
        return None
    shard = meta["chunk_grid"]["configuration"]["chunk_shape"]
    chunk = config["chunk_shape"]
    chunks = math.prod(s // c for s, c in zip(shard, chunk, strict=True))
    return 16 * chunks + (4 if "crc32c" in index_codecs else 0)


def gather(store: Path, group: str) -> dict[str, Any] | None:
    """The bundle of ``group`` of the local store ``store`` (read from the shards' last bytes), None where
    the group has no array whose indexes are bundled.

    Raises `StoreError` for a shard shorter than its index or failing its checksum (a damaged store).
    """
    arrays: dict[str, Any] = {}
    for meta_file in sorted((store / group).rglob("zarr.json")):
        meta = json.loads(meta_file.read_text())
        size = index_bytes(meta)
        if size is None:
            continue
        array_dir = meta_file.parent
        shards = {}
        for shard in sorted(p for p in (array_dir / "c").rglob("*") if p.is_file() and not p.name.startswith(".")):
            length = shard.stat().st_size
            with open(shard, "rb") as handle:
                handle.seek(max(length - size, 0))
                index = handle.read()
            check(index, size, str(shard))
            shards[shard.relative_to(array_dir / "c").as_posix()] = [length, base64.b64encode(index).decode("ascii")]
        arrays[array_dir.relative_to(store).as_posix()] = {"index_bytes": size, "shards": shards}
    return {"format": FORMAT, "arrays": arrays} if arrays else None


def check(index: bytes, size: int, where: str) -> None:
    """Raise `StoreError` unless ``index`` is a whole shard index that passes its CRC32C (where it has one:
    an index of ``size`` 16n + 4 bytes, see `index_bytes`)."""
    if len(index) != size:
        raise StoreError(f"{where} has {len(index)} bytes, less than its {size}-byte shard index (truncated)")
    if size % 16 == 4:
        import google_crc32c

        if google_crc32c.value(index[:-4]) != int.from_bytes(index[-4:], "little"):
            raise StoreError(f"{where}: its shard index fails its checksum (truncated or corrupt)")


def encode(bundle: dict[str, Any]) -> bytes:
    """A bundle's bytes (compact JSON, keys sorted: the same shards give the same bytes)."""
    return json.dumps(bundle, sort_keys=True, separators=(",", ":")).encode()


def decode(data: bytes, where: str) -> dict[str, Any]:
    """A bundle from its bytes. Raises `StoreError` where they are no bundle of a format read here."""
    try:
        bundle = json.loads(data)
        arrays = bundle["arrays"]
        ok = bundle.get("format") == FORMAT and all(isinstance(a["index_bytes"], int) and isinstance(a["shards"], dict)
                                                    for a in arrays.values())
    except (ValueError, KeyError, TypeError, AttributeError):
        ok = False
    if not ok:
        raise StoreError(f"{where} is not a shard-index bundle of format {FORMAT} (corrupt: republish the store)")
    return bundle


def lookup(bundle: dict[str, Any], key: str) -> tuple[int, bytes] | None:
    """Size and index bytes of shard ``key`` (a store key, ``chr1/p_splice/c/0/95/0``) from ``bundle``;
    None where its array is bundled and the shard does not exist. Raises KeyError where the array is
    not in the bundle."""
    array, _, shard = key.partition("/c/")
    entry = bundle["arrays"][array]["shards"].get(shard)
    if entry is None:
        return None
    return int(entry[0]), base64.b64decode(entry[1])


def write(store: str | Path) -> list[str]:
    """(Re)write the bundle of every top-level group of the local store ``store`` that has sharded arrays,
    and remove bundles of groups that have none now. Returns the groups bundled.

    Call it before consolidating, so that the consolidated metadata lists the bundles.
    """
    import numpy as np
    import zarr
    from zarr.codecs import GzipCodec

    store = Path(store)
    bundles = {group: bundle for group in _groups(store) if (bundle := gather(store, group)) is not None}
    old = store / GROUP
    if not bundles and not old.exists():
        return []
    parent = zarr.open_group(str(store), path=GROUP, mode="a", zarr_format=3, use_consolidated=False, attributes={
        "description": "a copy of every shard index of each group's sharded arrays, for readers by URL "
                       "(see pipeline/store/shard_indexes.py); not data"})
    for name in [k for k in parent.array_keys() if k not in bundles]:
        del parent[name]
    for group, bundle in bundles.items():
        data = np.frombuffer(encode(bundle), dtype=np.uint8)
        array = parent.create_array(group, shape=data.shape, chunks=data.shape, dtype="uint8", fill_value=0,
                                    compressors=[GzipCodec()], dimension_names=(f"{group}_bytes",), overwrite=True)
        array[:] = data
    return list(bundles)


def stale(store: str | Path) -> list[str]:
    """The groups of the local store ``store`` whose bundle differs from its shards now (or is missing while
    others exist): empty for a store without bundles (made before them) and for a current one."""
    import zarr

    store = Path(store)
    if not (store / GROUP / "zarr.json").is_file():
        return []
    parent = zarr.open_group(str(store), path=GROUP, mode="r", use_consolidated=False)
    have = set(parent.array_keys())
    out = []
    for group in _groups(store):
        bundle = gather(store, group)
        stored = bytes(parent[group][:]) if group in have else None
        if (None if bundle is None else encode(bundle)) != stored:
            out.append(group)
    return out


def _groups(store: Path) -> list[str]:
    """The top-level groups of a local store whose shards a bundle may describe (not the bundles' own)."""
    return sorted(p.name for p in store.iterdir() if p.name != GROUP and (p / "zarr.json").is_file())
