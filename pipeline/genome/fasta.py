"""Reading reference sequence through pyfaidx: plain or bgzip FASTA, N beyond contig ends."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path

import pyfaidx

from ..errors import FastaError
from .contigs import match_contig
from .digest import sha256_file


class Reference:
    """A FASTA opened for random access. Coordinates are 0-based half-open.

    The file is opened lazily, so a `Reference` is cheap to create and pickle: each process
    (Dask worker, array task) opens its own handle.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        if not self.path.is_file():
            raise FastaError(f"FASTA {self.path} does not exist")

    def __getstate__(self) -> dict:
        return {"path": self.path}

    def __setstate__(self, state: dict) -> None:
        self.path = state["path"]

    @cached_property
    def _fasta(self) -> pyfaidx.Fasta:
        if not Path(f"{self.path}.fai").exists() and not os.access(self.path.parent, os.W_OK):
            raise FastaError(
                f"FASTA {self.path} has no .fai index and its folder is not writable: run "
                f"`samtools faidx {self.path}` where you can write, or copy it somewhere writable"
            )
        try:
            return pyfaidx.Fasta(str(self.path), as_raw=True, sequence_always_upper=False, rebuild=False)
        except pyfaidx.UnsupportedCompressionFormat:
            raise FastaError(
                f"FASTA {self.path} is gzip-compressed but not bgzip: recompress it with "
                f"`zcat {self.path.name} | bgzip > {self.path.stem}.bgz.fa.gz`"
            ) from None
        except (pyfaidx.FastaIndexingError, ValueError, OSError) as err:
            raise FastaError(f"FASTA {self.path} cannot be read: {err}") from None

    @cached_property
    def lengths(self) -> dict[str, int]:
        """Contig name -> length, in file order."""
        return {name: len(record) for name, record in self._fasta.records.items()}

    def resolve(self, name: str) -> str:
        """The FASTA's own name for ``name`` (aliases allowed); `ContigNotFound` otherwise."""
        return match_contig(name, self.lengths, f"FASTA {self.path.name}")

    def fetch(self, chrom: str, start: int, end: int) -> str:
        """Sequence of ``[start, end)`` on ``chrom``, case kept, N where it lies beyond the contig."""
        chrom = self.resolve(chrom)
        length = self.lengths[chrom]
        lo, hi = max(start, 0), min(end, length)
        inner = self._fasta[chrom][lo:hi] if hi > lo else ""
        if not isinstance(inner, str):
            inner = str(inner)
        return "N" * (min(lo, end) - start) + inner + "N" * (end - max(hi, start))

    def digest(self) -> str:
        """SHA-256 of the FASTA file's bytes: identifies the reference a store was made from."""
        return sha256_file(self.path)
