"""Which positions an all-SNV store covers: exons +/- N, whole gene bodies, or a BED file (0-based half-open).

Positions outside every gene body are never included: no gene would report their SNVs.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pandas as pd

from ..errors import ConfigError, ContigNotFound
from ..genome.contigs import match_contig
from ..genome.digest import sha256_file
from ..precompute.tiling import Interval, merge_intervals

_EXONS = re.compile(r"^exons(?::(\d+))?$")


def describe_regions(spec: str) -> dict:
    """The identity of a regions spec: ``exons:N``, ``genes`` or a BED path (by its digest)."""
    if spec == "genes" or _EXONS.match(spec):
        return {"regions": spec if spec == "genes" or ":" in spec else "exons:50"}
    path = Path(spec)
    if not path.is_file():
        raise ConfigError(f"--regions must be exons:N, genes or a BED file; {spec!r} is none of these")
    return {"regions": "bed", "bed_digest": sha256_file(path)}


def snv_intervals(genes: pd.DataFrame, spec: str, lengths: dict[str, int]) -> dict[str, list[Interval]]:
    """Per chromosome, merged intervals whose every position gets its three SNVs."""
    bodies = {c: merge_intervals(zip(g.start, g.end)) for c, g in genes.groupby("chrom")}
    match = _EXONS.match(spec)
    if spec == "genes":
        wanted = bodies
    elif match:
        flank = int(match.group(1) or 50)
        # exon bounds are numpy int64 arrays: int() here keeps them out of tiles, whose list is stored as JSON
        wanted = {c: merge_intervals((max(int(s) - flank, 0), min(int(e) + flank, lengths[c]))
                                     for starts, ends in zip(g.exon_starts, g.exon_ends) for s, e in zip(starts, ends))
                  for c, g in genes.groupby("chrom")}
    else:
        wanted = _read_bed(Path(spec), lengths)
    inside = {c: _intersect(wanted.get(c, []), body) for c, body in bodies.items()}
    return {c: spans for c, spans in inside.items() if spans}


def _intersect(a: list[Interval], b: list[Interval]) -> list[Interval]:
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo < hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def _read_bed(path: Path, lengths: dict[str, int]) -> dict[str, list[Interval]]:
    intervals: dict[str, list[Interval]] = {}
    bad, unknown = 0, 0
    for line in path.read_text().splitlines():
        if not line.strip() or line.startswith(("#", "track", "browser")):
            continue
        fields = line.split("\t") if "\t" in line else line.split()
        try:
            chrom, start, end = fields[0], int(fields[1]), int(fields[2])
            chrom = match_contig(chrom, lengths, "the FASTA")
        except (IndexError, ValueError):
            bad += 1
            continue
        except ContigNotFound:
            unknown += 1
            continue
        if 0 <= start < end:
            intervals.setdefault(chrom, []).append((start, min(end, lengths[chrom])))
        else:
            bad += 1
    if bad:
        warnings.warn(f"{bad} malformed BED line(s) in {path} were skipped", stacklevel=3)
    if unknown:
        warnings.warn(f"{unknown} BED line(s) on contigs absent from the FASTA were skipped", stacklevel=3)
    return {c: merge_intervals(v) for c, v in intervals.items()}
