"""Per-base training targets: splice-site classes from the annotation, usage from bigWig/bedGraph tracks.

Coordinates are 0-based half-open. A site is the exonic base next to a junction, where Pangolin's
P(splice) peaks: donor = last base of an exon, acceptor = first base of an exon, in transcript
orientation. Exon boundaries at the ends of a gene's exons (transcription start and end) are not
sites. The gene table holds the exons of the kept transcripts merged per gene, so with several
transcripts per gene an alternative first or last exon's outer end counts as a site: filter to one
transcript per gene (``--tags 'MANE Select'`` or a canonical annotation) for exact labels.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ContigNotFound, TargetError
from ..genome.contigs import match_contig
from ..genome.digest import sha256_file
from ..store.tile import STRAND_NAMES

NEITHER, DONOR, ACCEPTOR = 0, 1, 2


def splice_sites(genes: pd.DataFrame) -> pd.DataFrame:
    """One row per annotated site: ``chrom, strand, position`` (0-based), ``kind`` (DONOR or ACCEPTOR)."""
    rows = []
    for gene in genes.itertuples():
        starts, ends = np.asarray(gene.exon_starts), np.asarray(gene.exon_ends)
        if len(starts) < 2:
            continue
        left = starts[starts != starts.min()]  # first base of an exon, except the leftmost
        right = ends[ends != ends.max()] - 1  # last base of an exon, except the rightmost
        five, three = (left, right) if gene.strand == "+" else (right, left)
        rows += [(gene.chrom, gene.strand, int(p), ACCEPTOR) for p in np.unique(five)]
        rows += [(gene.chrom, gene.strand, int(p), DONOR) for p in np.unique(three)]
    sites = pd.DataFrame(rows, columns=["chrom", "strand", "position", "kind"])
    return sites.drop_duplicates(["chrom", "strand", "position"]).reset_index(drop=True)


def site_labels(sites: pd.DataFrame, chrom: str, strand: str, start: int, end: int) -> np.ndarray:
    """Class per base of ``[start, end)`` on one strand (int64: NEITHER, DONOR or ACCEPTOR)."""
    labels = np.zeros(end - start, dtype=np.int64)
    here = sites[(sites.chrom == chrom) & (sites.strand == strand) & (sites.position >= start)
                 & (sites.position < end)]
    labels[here.position.to_numpy() - start] = here.kind.to_numpy()
    return labels


class Track:
    """One per-base signal from a bigWig (pyBigWig) or bedGraph file; NaN where it has no value."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise TargetError(f"target track {self.path} does not exist")
        self._bigwig = None
        if _is_bigwig(self.path):
            import pyBigWig

            self._bigwig = pyBigWig.open(str(self.path))
            if self._bigwig is None:
                raise TargetError(f"target track {self.path} cannot be opened as bigWig")
            self.lengths = dict(self._bigwig.chroms())
        else:
            self._intervals = _read_bedgraph(self.path)
            self.lengths = {c: int(g.end.max()) for c, g in self._intervals.groupby("chrom", sort=False)}

    def values(self, chrom: str, start: int, end: int) -> np.ndarray:
        """float32 values of ``[start, end)`` on ``chrom`` (aliases allowed: 22 = chr22); NaN where unknown."""
        try:
            name = match_contig(chrom, self.lengths, f"target track {self.path.name}")
        except ContigNotFound as err:
            raise TargetError(f"{err}: do the track's contig names match the FASTA's?") from None
        out = np.full(end - start, np.nan, dtype=np.float32)
        lo, hi = max(start, 0), min(end, self.lengths[name])
        if hi <= lo:
            return out
        if self._bigwig is not None:
            out[lo - start : hi - start] = self._bigwig.values(name, lo, hi, numpy=True)
            return out
        rows = self._intervals[(self._intervals.chrom == name) & (self._intervals.end > lo)
                               & (self._intervals.start < hi)]
        for s, e, v in zip(rows.start, rows.end, rows.value):
            out[max(s, lo) - start : min(e, hi) - start] = v
        return out

    def digest(self) -> str:
        return sha256_file(self.path)


def _is_bigwig(path: Path) -> bool:
    with open(path, "rb") as handle:
        magic = handle.read(4)
    return magic in (b"\x26\xfc\x8f\x88", b"\x88\x8f\xfc\x26")  # bigWig magic, either byte order


def _read_bedgraph(path: Path) -> pd.DataFrame:
    try:
        table = pd.read_csv(path, sep=r"\s+", header=None, comment="#", usecols=[0, 1, 2, 3],
                            names=["chrom", "start", "end", "value"], skiprows=_header_lines(path),
                            dtype={"chrom": str, "start": np.int64, "end": np.int64, "value": np.float32})
    except (ValueError, pd.errors.ParserError) as err:
        raise TargetError(f"target track {path} is neither bigWig nor bedGraph (chrom start end value): "
                          f"{str(err).splitlines()[0]}") from None
    if table.empty:
        raise TargetError(f"target track {path} holds no values")
    return table


def _header_lines(path: Path) -> int:
    with open(path, errors="replace") as handle:
        n = 0
        for line in handle:
            if not line.startswith(("track", "browser")):
                return n
            n += 1
    return n


@dataclass(frozen=True)
class TargetSpec:
    """One usage target: its name and the track of each strand (one file may serve both)."""

    name: str
    plus: Track
    minus: Track

    def values(self, chrom: str, strand: str, start: int, end: int) -> np.ndarray:
        return (self.plus if strand == "+" else self.minus).values(chrom, start, end)


def parse_targets(text: str) -> list[TargetSpec]:
    """``'heart=heart.bw,brain=brain.{strand}.bw'`` -> targets; ``{strand}`` becomes plus / minus.

    Raises
    ------
    TargetError
        For a malformed list, a bad or repeated name, or a missing or unreadable file.
    """
    specs, seen = [], set()
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, path = item.partition("=")
        if not sep or not path:
            raise TargetError(f"target {item!r} is not NAME=PATH (e.g. heart=heart.usage.{{strand}}.bw)")
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name) or name in seen:
            raise TargetError(f"target name {name!r} must be a new identifier (letters, digits, _)")
        seen.add(name)
        plus, minus = (Track(path.replace("{strand}", s)) for s in (STRAND_NAMES["+"], STRAND_NAMES["-"]))
        specs.append(TargetSpec(name, plus, minus))
    if not specs:
        raise TargetError("no targets given: --targets 'NAME=PATH[,NAME=PATH...]'")
    return specs


def usage_targets(targets: list[TargetSpec], chrom: str, strand: str, start: int, end: int) -> np.ndarray:
    """(targets, end - start) float32 usage on one strand; NaN where unknown."""
    return np.stack([t.values(chrom, strand, start, end) for t in targets])


def check_usage(values: np.ndarray, names: list[str], split: str) -> None:
    """Refuse targets with no known value in a split, or values outside [0, 1]."""
    for name, row in zip(names, values):
        known = row[~np.isnan(row)]
        if not known.size:
            raise TargetError(f"target {name} has no value (all NaN) over the {split} genes: "
                              "does the track cover them, on the right strand?")
        lo, hi = float(known.min()), float(known.max())
        if lo < 0 or hi > 1 or math.isinf(lo) or math.isinf(hi):
            raise TargetError(f"target {name} has values in [{lo:g}, {hi:g}]; usage must lie in [0, 1] "
                              "(scale percentages by 1/100)")
