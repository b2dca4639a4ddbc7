"""Parsing user-facing region strings (1-based inclusive) into 0-based half-open intervals."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

from ..errors import RegionError

_REGION = re.compile(r"^\s*([^:\s]+)(?::([\d,_]+)(?:\s*[-–]\s*([\d,_]+))?)?\s*$")


@dataclass(frozen=True)
class Region:
    """A 0-based half-open interval ``[start, end)`` on ``chrom``; ``end`` None means to the contig end."""

    chrom: str
    start: int
    end: int | None

    def __str__(self) -> str:
        end = f"{self.end:,}" if self.end is not None else "end"
        return f"{self.chrom}:{self.start + 1:,}-{end}"


def parse_region(text: str) -> Region:
    """``chr17:41,196,312-41,277,500`` (1-based, inclusive), ``chr17:41196312`` or ``chr17``.

    Raises
    ------
    RegionError
        If the string is malformed, a position is 0, or the end is before the start.
    """
    match = _REGION.match(text)
    if not match:
        raise RegionError(f"region {text!r} is not of the form CHROM, CHROM:POS or CHROM:START-END (1-based)")
    chrom, start, end = match.groups()
    if start is None:
        return Region(chrom, 0, None)
    first = int(start.replace(",", "").replace("_", ""))
    last = int(end.replace(",", "").replace("_", "")) if end else first
    if first < 1:
        raise RegionError(f"region {text!r}: positions are 1-based, so the start must be >= 1")
    if last < first:
        raise RegionError(f"region {text!r} ends before it starts; write it as {chrom}:{last:,}-{first:,}")
    return Region(chrom, first - 1, last)


def clip_to_contig(region: Region, length: int) -> Region:
    """The region with a missing end filled in and an end past the contig clipped to it (with a warning).

    Raises
    ------
    RegionError
        If the region starts past the end of the contig.
    """
    end = length if region.end is None else region.end
    if region.start >= length:
        raise RegionError(f"region {region} lies outside {region.chrom} (length {length:,})")
    if end > length:
        warnings.warn(f"region {region} runs past the end of {region.chrom} (length {length:,}); "
                      f"clipped to {Region(region.chrom, region.start, length)}", stacklevel=2)
    return Region(region.chrom, region.start, min(end, length))


STRANDS = ("+", "-")


def check_strand(strand: str) -> str:
    """``strand`` if it is ``+`` or ``-``; `RegionError` naming it otherwise."""
    if strand not in STRANDS:
        raise RegionError(f"strand must be + or -, got {strand!r}")
    return strand
