"""One variant's answer, whatever gave it (a store or the model), and its JSON shapes.

Both sources give the official INFO value (``GENE|pos:gain|pos:loss|Warnings:`` per gene, exactly
what `score` and `lookup` print), so one parser serves both and a stored answer equals a computed one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

MAX_VARIANT_TEXT = 200  # characters of a variant string
MAX_POSITION = 2_000_000_000  # no contig is longer: a larger POS is refused before any lookup
MAX_ALLELE = 200  # bases of REF or ALT
_VARIANT = re.compile(r"^\s*((?:chr)?[A-Za-z0-9_.]{1,40}?)[:\-\s]+([\d,_]{1,15})(?:[:\-]|\s+|:\s*)([A-Za-z]+)"
                      r"\s*(?:[:>\-]|\s)\s*([A-Za-z]+)\s*$")
# HGVS's genomic substitution on a chromosome name: chr17:g.41276126C>A (accessions such as NC_000017.10 are
# not mapped: their version names the build, which a lookup takes from hg= or the store)
_HGVS = re.compile(r"^\s*((?:chr)?[A-Za-z0-9_]{1,40}):g\.([\d,_]{1,15})([A-Za-z])>([A-Za-z])\s*$")


class InputProblem(Exception):
    """A request the server will not answer: ``code`` (machine-readable), message, HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


@dataclass(frozen=True)
class Variant:
    chrom: str  # as given (contig names are matched with their aliases: 17, chr17)
    pos: int  # 1-based
    ref: str
    alt: str
    text: str  # as given

    @property
    def name(self) -> str:
        return f"{self.chrom}-{self.pos}-{self.ref}-{self.alt}"

    @property
    def is_snv(self) -> bool:
        return len(self.ref) == 1 and len(self.alt) == 1


def parse(text: Any) -> Variant:
    """``chr17-41276126-C-A``, ``chr17:41276126:C:A``, ``17:41276126 C>A`` or ``chr17:g.41276126C>A``;
    every problem named.

    Raises `InputProblem` (400) for anything else: not a string, too long, no such form, POS out of
    range, bases other than A/C/G/T, REF equal to ALT.
    """
    if not isinstance(text, str):
        raise InputProblem("malformed_variant", f"a variant must be a string, not {type(text).__name__}")
    if len(text) > MAX_VARIANT_TEXT:
        raise InputProblem("malformed_variant", f"variant text longer than {MAX_VARIANT_TEXT} characters")
    stripped = text.strip().strip("'\"").strip(",")
    match = _VARIANT.match(stripped) or _HGVS.match(stripped)
    if not match and re.match(r"N[CT]_\d+(\.\d+)?:g\.", stripped):
        raise InputProblem("malformed_variant", f"{_shown(text)}: RefSeq accessions are not mapped to chromosomes "
                           "(their version names a build); give the chromosome, e.g. chr17:g.41276126C>A")
    if not match:
        raise InputProblem("malformed_variant", f"{_shown(text)} is not a variant as CHROM-POS-REF-ALT "
                           "(e.g. chr17-41276126-C-A, chr17:41276126:C:A, 17:41276126 C>A or chr17:g.41276126C>A)")
    chrom, pos_text, ref, alt = match.groups()
    pos = int(pos_text.replace(",", "").replace("_", ""))
    if not 1 <= pos <= MAX_POSITION:
        raise InputProblem("bad_position", f"position {pos_text} is out of range (1 to {MAX_POSITION:,})")
    ref, alt = ref.upper(), alt.upper()
    for what, bases in (("REF", ref), ("ALT", alt)):
        if set(bases) - set("ACGT"):
            raise InputProblem("bad_allele", f"{what} {_shown(bases)} has bases other than A, C, G, T")
        if len(bases) > MAX_ALLELE:
            raise InputProblem("bad_allele", f"{what} longer than {MAX_ALLELE} bases")
    if ref == alt:
        raise InputProblem("bad_allele", f"REF and ALT are the same ({ref}): not a variant")
    if len(ref) > 1 and len(alt) > 1 and len(ref) != len(alt):
        raise InputProblem("unsupported_variant", f"complex indels like {chrom}-{pos}-{ref}-{alt} are not "
                           "supported (Pangolin scores SNVs, MNVs and 1-base-anchored indels)")
    return Variant(chrom, pos, ref, alt, text)


def _shown(text: str, limit: int = 40) -> str:
    """``text`` quoted for a message, cut short, control characters escaped."""
    text = text if len(text) <= limit else text[: limit - 3] + "..."
    return repr(text)


@dataclass
class GeneScore:
    gene_id: str
    gene_name: str
    gain: float  # the official 2-decimal value
    gain_pos: int  # offset from the variant, bases
    loss: float
    loss_pos: int
    warning: str = ""

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Answer:
    """A variant's scores per gene, where they came from, and the official INFO value."""

    variant: Variant
    source: str  # "store" or "model"
    store: str | None
    build: str | None
    distance: int
    mask: bool
    info: str
    genes: list[GeneScore] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        v = self.variant
        return {"variant": v.text, "chrom": v.chrom, "pos": v.pos, "ref": v.ref, "alt": v.alt, "build": self.build,
                "distance": self.distance, "mask": self.mask, "source": self.source, "store": self.store,
                "info": self.info, "genes": [g.as_json() for g in self.genes]}


def genes_of(info: str, names: dict[str, str]) -> list[GeneScore]:
    """Per gene of an INFO value (default output form), with names from ``names`` (id -> name)."""
    out = []
    for bundle in filter(None, info.split(",")):
        parts = bundle.split("|")
        gene = parts[0]
        (gain_pos, gain), (loss_pos, loss) = (p.split(":") for p in parts[1:3])
        warning = parts[3].split(":", 1)[1] if len(parts) > 3 and ":" in parts[3] else ""
        out.append(GeneScore(gene, names.get(gene, gene), float(gain), int(gain_pos), float(loss), int(loss_pos),
                             warning))
    return out
