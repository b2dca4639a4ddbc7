"""A tile: one unit of work and of storage, the requested segments inside one shard of one strand."""

from __future__ import annotations

from dataclasses import dataclass

Interval = tuple[int, int]
STRAND_NAMES = {"+": "plus", "-": "minus", ".": "both"}  # ".": a tile of both strands


@dataclass(frozen=True)
class Tile:
    """One unit of work: the requested segments inside one shard of one strand."""

    chrom: str
    strand: str
    index: int
    start: int
    end: int
    segments: tuple[Interval, ...]

    @property
    def id(self) -> str:
        return f"{self.chrom}:{STRAND_NAMES[self.strand]}:{self.index}"

    @property
    def bases(self) -> int:
        return sum(e - s for s, e in self.segments)

    def to_dict(self) -> dict:
        return {"chrom": self.chrom, "strand": self.strand, "index": self.index, "start": self.start,
                "end": self.end, "segments": [list(s) for s in self.segments]}

    @classmethod
    def from_dict(cls, d: dict) -> Tile:
        return cls(d["chrom"], d["strand"], d["index"], d["start"], d["end"],
                   tuple((int(s), int(e)) for s, e in d["segments"]))
