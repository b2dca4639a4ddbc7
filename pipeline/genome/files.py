"""Opening input text files (annotation, VCF) whether plain or gzip/bgzip compressed."""

from __future__ import annotations

import gzip
import os
from typing import IO

GZIP_MAGIC = b"\x1f\x8b"


def is_gzip(path: str | os.PathLike) -> bool:
    with open(path, "rb") as probe:
        return probe.read(2) == GZIP_MAGIC


def open_text(path: str | os.PathLike) -> IO[str]:
    """A text handle on ``path``, decompressing gzip and bgzip (sniffed from the bytes, not the name)."""
    return gzip.open(path, "rt") if is_gzip(path) else open(path)
