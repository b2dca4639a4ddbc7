"""Many variants in one request: which format a request sends and wants back, and reading VCF or TSV
bodies into variants with their line numbers.

The request's Content-Type says what it sends (JSON, VCF or TSV; a gzip or bgzip body is read
too); the ``format`` parameter, else the Accept header, else the input's own format says what comes
back. A line that cannot be read at all (too few columns, a POS that is not a number) refuses the
whole request with its line number; a readable line whose variant is wrong (an allele like ``*``, an
unknown contig) is answered with its own error, as in a JSON batch.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field, replace
from typing import Any

from ..variants.records import MALFORMED, Record, parse_vcf_line
from .answers import InputProblem, Variant, parse

MEDIA_TYPES = {"json": "application/json", "vcf": "text/vcf", "tsv": "text/tab-separated-values"}
_ALIASES = {"application/json": "json", "text/vcf": "vcf", "text/x-vcf": "vcf", "application/vcf": "vcf",
            "text/tab-separated-values": "tsv", "text/tsv": "tsv"}
INFLATION = 10  # a compressed body may expand to this many times the body limit, no more
VCF_COLUMNS = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"


@dataclass
class Item:
    """One variant of a batch, as sent (``text``), parsed or with the problem that stops it."""

    text: str
    variant: Variant | None
    problem: InputProblem | None
    line: int | None = None  # of a VCF or TSV body
    record: int | None = None  # which VCF record (a multi-allelic record has one item per ALT)


@dataclass
class Batch:
    kind: str  # "json", "vcf" or "tsv"
    items: list[Item]
    header: list[str] = field(default_factory=list)  # a VCF's header lines, #CHROM last
    records: list[Record] = field(default_factory=list)  # a VCF's data lines
    settings: dict[str, Any] = field(default_factory=dict)  # a JSON body's


def item(text: str, **where: int) -> Item:
    try:
        return Item(text, parse(text), None, **where)
    except InputProblem as problem:
        return Item(text, None, problem, **where)


def request_kind(content_type: str | None) -> str:
    """"json", "vcf" or "tsv" from a Content-Type, or "text" for text/plain (a VCF or a TSV: `read_text`
    tells them apart by content); 415 for anything else."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media in _ALIASES:
        return _ALIASES[media]
    if media == "text/plain":
        return "text"
    raise InputProblem("unsupported_media_type", f"Content-Type {media[:60] or '(none)'!r} is not read here; send "
                       f"{', '.join(sorted(_ALIASES))} or text/plain", 415)


def response_kind(format_param: str | None, accept: str | None, sent: str) -> str:
    """The ``format`` parameter, else the first of Accept's types that is served, else what was sent
    ("text": as read). 406 when Accept names only types not served."""
    return format_param or _accepted(accept, sent)


def _accepted(accept: str | None, sent: str) -> str:
    if not accept:
        return sent
    for part in accept.split(","):
        media, *params = (p.strip().lower() for p in part.split(";"))
        if not media or "q=0" in params or "q=0.0" in params:
            continue
        if media in ("*/*", "text/*", "application/*"):
            return sent
        if media in _ALIASES:
            return _ALIASES[media]
    raise InputProblem("not_acceptable", f"Accept {accept[:80]!r} names no type served here: "
                       f"{', '.join(MEDIA_TYPES.values())}", 406)


def body_text(body: bytes, limit: int) -> str:
    """The body as text; gzip (bgzip is gzip in blocks) inflated up to ``INFLATION`` times ``limit``."""
    if body[:2] == b"\x1f\x8b":
        body = _inflated(body, INFLATION * limit)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputProblem("bad_encoding", f"the body is not UTF-8 text (byte {err.start})") from None


def _inflated(data: bytes, limit: int) -> bytes:
    parts, size = [], 0
    while data:
        member = zlib.decompressobj(wbits=31)
        try:
            part = member.decompress(data, limit + 1 - size)
        except zlib.error as err:
            raise InputProblem("bad_gzip", f"the gzip body cannot be read: {err}") from None
        size += len(part)
        parts.append(part)
        if size > limit:
            raise InputProblem("body_too_large", f"the body inflates past {limit:,} bytes", 413)
        if not member.eof:
            raise InputProblem("bad_gzip", "the gzip body is truncated")
        data = member.unused_data
    return b"".join(parts)


def read_text(kind: str, text: str, max_variants: int) -> Batch:
    """A VCF or TSV body (``kind`` "text": VCF if it has a ``#CHROM`` line, else TSV) as a `Batch`."""
    if kind == "text":
        kind = "vcf" if re.search(r"^#CHROM", text, re.MULTILINE) else "tsv"
    return read_vcf(text, max_variants) if kind == "vcf" else read_tsv(text, max_variants)


def as_vcf_batch(batch: Batch) -> Batch:
    """A JSON or TSV batch as a VCF one, so that it can come back as a VCF: one record per variant, in the
    order sent (ID ``.``). A variant that could not be read has no record to stand in, so a VCF answer is
    refused (400, naming how many and the first) rather than given without it."""
    unread = [entry for entry in batch.items if entry.variant is None]
    if unread:
        raise InputProblem("not_representable", f"{len(unread)} variant(s) could not be read (the first: "
                           f"{unread[0].problem.message}); a VCF answer needs every variant: ask for json or tsv "
                           "to have each one's error")
    records, items = [], []
    for n, entry in enumerate(batch.items):
        v = entry.variant
        records.append(Record(entry.line or n + 1, [v.chrom, str(v.pos), ".", v.ref, v.alt, ".", ".", "."], v.chrom,
                              v.pos, v.ref, [v.alt]))
        items.append(replace(entry, record=n))
    return Batch("vcf", items, ["##fileformat=VCFv4.2", VCF_COLUMNS], records, batch.settings)


def read_vcf(text: str, max_variants: int) -> Batch:
    lines = text.splitlines()
    header = [line for line in lines if line.startswith("#")]
    if not header or not header[-1].startswith("#CHROM"):
        raise InputProblem("not_vcf", "the VCF has no #CHROM header line (or lines follow it that start with #)")
    records, items = [], []
    for n, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith("#"):
            continue
        record = parse_vcf_line(n, line)
        if record.error in MALFORMED:
            raise InputProblem("malformed_line", f"line {n}: {MALFORMED[record.error]} ({_excerpt(line)})")
        for alt in record.alts:
            items.append(item(f"{record.chrom}-{record.pos}-{record.ref}-{alt}", line=n, record=len(records)))
            _check_count(len(items), max_variants)
        records.append(record)
    return Batch("vcf", items, header, records)


def read_tsv(text: str, max_variants: int) -> Batch:
    """Lines of CHROM, POS, REF, ALT (tab-separated; further columns ignored) or of one variant string;
    a first line naming the columns (CHROM or #CHROM) and lines starting with # are skipped."""
    items = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#") or (n == 1 and line.upper().startswith("CHROM")):
            continue
        fields = line.rstrip("\r").split("\t")
        if len(fields) == 1:
            items.append(item(fields[0].strip(), line=n))
        elif len(fields) >= 4 and fields[1].strip().isdigit():
            items.append(item("-".join(f.strip() for f in fields[:4]), line=n))
        else:
            problem = ("POS is not a positive integer" if len(fields) >= 4
                       else f"{len(fields)} columns; want CHROM, POS, REF, ALT or one variant like chr17-41276126-C-A")
            raise InputProblem("malformed_line", f"line {n}: {problem} ({_excerpt(line)})")
        _check_count(len(items), max_variants)
    return Batch("tsv", items)


def _check_count(count: int, limit: int) -> None:
    if count > limit:
        raise InputProblem("too_many_variants", f"more than {limit:,} variants; the limit is {limit:,} per request",
                           413)


def _excerpt(line: str) -> str:
    return repr(line if len(line) <= 40 else line[:37] + "...")
