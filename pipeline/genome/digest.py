"""File digests that identify inputs (checkpoints, FASTA, annotation) in store attributes."""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path


def sha256_file(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes. Hashed once per version of the file in a process (keyed by its
    real path, modification time and size), so links to it and repeated checks share the work."""
    real = Path(path).resolve()
    stat = real.stat()
    return _sha256_version(real, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=None)
def _sha256_version(real_path: Path, mtime_ns: int, size: int) -> str:
    digest = hashlib.sha256()
    with open(real_path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()
