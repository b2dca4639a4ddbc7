"""File digests that identify inputs (checkpoints, FASTA, annotation) in store attributes."""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path


def sha256_file(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes. Hashed once per version of the file in a process (keyed by its
    real path, inode, size and modification and change times: a copy that keeps the modification
    time still changes the change time), so links to it and repeated checks share the work."""
    real = Path(path).resolve()
    stat = real.stat()
    return _sha256_version(real, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


@lru_cache(maxsize=None)
def _sha256_version(real_path: Path, inode: int, size: int, mtime_ns: int, ctime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(real_path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()
