"""Reading variant records from VCF (plain, gzip, bgzip, BCF) and CSV, keeping every input line.

Lines are split on tabs, or on runs of spaces when a line has no tab (the official example's
first record is space-separated, and PyVCF, which the official tool used, accepts it). A line that
cannot be parsed (fewer than 5 columns, a POS that is not a positive integer) is an error naming its
line number; with ``skip_malformed`` such lines are counted, left out of the output and warned
about, never turned into records.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import VariantError
from ..genome.files import open_text

# CHROM:POS:REF:ALT, CHROM-POS-REF-ALT (SpliceAI-lookup's form) or CHROM:POS REF>ALT; 1-based POS
_VARIANT = re.compile(r"^\s*([^:\s]+?)[:-]([\d,_]+)(?:[:-]|\s+|:\s*)([ACGTNacgtn]+)(?:[:>-])([ACGTNacgtn]+)\s*$")


@dataclass
class Record:
    """One input data line. ``fields`` are the VCF columns as read; ``pos`` is 1-based."""

    line_no: int
    fields: list[str]
    chrom: str = ""
    pos: int = 0
    ref: str = ""
    alts: list[str] = field(default_factory=list)
    error: str | None = None  # why the line cannot be scored at all


def _split(line: str) -> list[str]:
    line = line.rstrip("\r\n")
    return line.split("\t") if "\t" in line else re.split(r" +", line.strip())


def parse_vcf_line(line_no: int, line: str) -> Record:
    """A data line as a `Record`; ``error`` says why it cannot be read (``malformed_line``, ``malformed_position``)."""
    fields = _split(line)
    record = Record(line_no, fields)
    if len(fields) < 5:
        record.error = "malformed_line"
        return record
    record.chrom, pos, record.ref = fields[0], fields[1], fields[3]
    if not pos.isdigit() or int(pos) < 1:
        record.error = "malformed_position"
        return record
    record.pos = int(pos)
    record.alts = fields[4].split(",")
    return record


MALFORMED = {"malformed_line": "fewer than 5 columns (CHROM POS ID REF ALT)",
             "malformed_position": "POS is not a positive integer"}


def drop_malformed(path: Path, records: list[Record], skip: bool) -> list[Record]:
    """``records`` without unreadable lines: an error naming the first one, or (``skip``) a warning with the count.

    Raises
    ------
    VariantError
        If a line is malformed and ``skip`` is false.
    """
    bad = [r for r in records if r.error in MALFORMED]
    if not bad:
        return records
    first = bad[0]
    where = f"{path} line {first.line_no}: {MALFORMED[first.error]} ({_excerpt(first.fields)})"
    if not skip:
        more = f" (and {len(bad) - 1} more such line(s))" if len(bad) > 1 else ""
        raise VariantError(f"{where}{more}; fix it, or pass --skip-malformed to leave such lines out")
    warnings.warn(f"{len(bad)} malformed line(s) left out of the output; the first: {where}", stacklevel=3)
    return [r for r in records if r.error not in MALFORMED]


def _excerpt(fields: list[str]) -> str:
    text = " ".join(fields)
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _open_text(path: Path):
    with open(path, "rb") as probe:
        magic = probe.read(4)
    if magic[:3] == b"BCF":
        raise VariantError("BCF")  # handled by the caller through pysam
    return open_text(path)


def read_vcf(path: str | Path, skip_malformed: bool = False) -> tuple[list[str], list[Record]]:
    """(header lines, records) of a VCF; BCF is converted to VCF text through pysam. Malformed lines:
    see `drop_malformed`."""
    path = Path(path)
    if not path.is_file():
        raise VariantError(f"variant file {path} does not exist")
    try:
        with _open_text(path) as handle:
            lines = handle.read().splitlines()
    except VariantError:
        lines = _bcf_as_text(path)
    except (OSError, EOFError, UnicodeDecodeError) as err:
        raise VariantError(f"variant file {path} cannot be read: {err}") from None
    header = [line for line in lines if line.startswith("#")]
    if not header or not header[-1].startswith("#CHROM"):
        raise VariantError(f"{path} has no #CHROM header line: is it a VCF?")
    records = [parse_vcf_line(n, line) for n, line in enumerate(lines, start=1)
               if line.strip() and not line.startswith("#")]
    return header, drop_malformed(path, records, skip_malformed)


def _bcf_as_text(path: Path) -> list[str]:
    import pysam

    try:
        with pysam.VariantFile(str(path)) as bcf:
            return str(bcf.header).splitlines() + [str(rec).rstrip("\n") for rec in bcf]
    except (OSError, ValueError) as err:
        raise VariantError(f"BCF {path} cannot be read: {err}") from None


def read_csv(path: str | Path, column_ids: str = "CHROM,POS,REF,ALT",
             skip_malformed: bool = False) -> tuple[pd.DataFrame, list[Record]]:
    """A CSV of variants (official ``--column_ids`` convention) as its frame and records (malformed
    rows: see `drop_malformed`; skipped rows leave the frame too)."""
    columns = column_ids.split(",")
    try:
        frame = pd.read_csv(path, header=0, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError) as err:
        raise VariantError(f"CSV {path} cannot be read: {err}") from None
    missing = [c for c in columns if c not in frame.columns]
    if len(columns) != 4 or missing:
        raise VariantError(
            f"CSV {path} lacks column(s) {', '.join(missing) or column_ids}; set --column-ids CHROM,POS,REF,ALT"
        )
    records = []
    for n, row in enumerate(frame[columns].itertuples(index=False), start=2):
        chrom, pos, ref, alt = (str(v) for v in row)
        records.append(parse_vcf_line(n, "\t".join([chrom, pos, ".", ref.upper(), alt.upper()])))
    kept = drop_malformed(Path(path), records, skip_malformed)
    if len(kept) < len(records):
        frame = frame.iloc[[r.line_no - 2 for r in kept]].reset_index(drop=True)
    return frame, kept


def parse_variant(text: str) -> tuple[str, int, str, str]:
    """``chr17:41276126:C:A``, ``chr17-41276126-C-A`` or ``chr17:41276126 C>A`` (1-based) -> (chrom,
    pos, REF, ALT), REF and ALT any run of A/C/G/T/N (whether it is an SNV is the caller's question).

    Raises
    ------
    VariantError
        If ``text`` has none of these forms or POS is not a positive integer.
    """
    match = _VARIANT.match(text)
    if not match or int(match.group(2).replace(",", "").replace("_", "")) < 1:
        raise VariantError(f"{text!r} is not a variant as CHROM:POS:REF:ALT (e.g. chr17:43094464:C:T)")
    chrom, pos, ref, alt = match.groups()
    return chrom, int(pos.replace(",", "").replace("_", "")), ref.upper(), alt.upper()
