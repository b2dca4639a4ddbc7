"""Gene bodies and exons from a GTF or GFF3 (parsed with pyranges), with filters. The format is read
from the content (a `##gff-version 3` line, `key=value` or `key "value"` attributes), not the file name.

Output is a gene table (pandas DataFrame), one row per gene, coordinates 0-based half-open:
``gene_id, gene_name, gene_type, chrom, strand, start, end, exon_starts, exon_ends``. Exons are
those of the selected transcripts (by tag when tags are given, otherwise all), as unique (start, end)
pairs sorted by start. The gene span is the ``gene`` feature, or the span of its transcripts when the
file has no gene features.
"""

from __future__ import annotations

import os
import re
import tempfile
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyranges as pr

from ..errors import AnnotationError
from .files import open_text

# How features of one gene or transcript combine into its span.
SPAN = {"chrom": ("chrom", "first"), "strand": ("strand", "first"), "start": ("start", "min"), "end": ("end", "max"),
        "gene_name": ("gene_name", "first"), "gene_type": ("gene_type", "first")}
GENE_COLUMNS = ["gene_id", "gene_name", "gene_type", "chrom", "strand", "start", "end", "exon_starts", "exon_ends"]
_GENE_FEATURES = {"gene", "ncRNA_gene", "pseudogene"}
_TRANSCRIPT_FEATURES = {
    "transcript", "mRNA", "lnc_RNA", "ncRNA", "miRNA", "snRNA", "snoRNA", "rRNA", "tRNA",
    "misc_RNA", "primary_transcript", "pseudogenic_transcript", "unconfirmed_transcript",
    "V_gene_segment", "C_gene_segment", "D_gene_segment", "J_gene_segment", "scRNA", "antisense_RNA",
}


@dataclass(frozen=True)
class GeneFilter:
    """Which genes to keep. Empty tuples keep everything; ``margin`` widens each body (bases)."""

    gene_types: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    chroms: tuple[str, ...] = ()
    margin: int = 0
    tags_drop_genes: bool = True  # False: tags select transcripts (exons) only, as the official db builder

    def __post_init__(self) -> None:
        if self.margin < 0:
            raise AnnotationError(f"margin must be >= 0 bases, got {self.margin}")


def _drop_malformed(path: Path) -> tuple[Path, int]:
    """Path to a copy without malformed feature lines (or ``path`` itself), and how many were dropped."""
    bad = 0
    kept: list[str] = []
    with open_text(path) as handle:
        for line in handle:
            if line.startswith("#") or not line.strip():
                continue
            fields = line.rstrip("\n").split("\t")
            if len(fields) != 9 or not (fields[3].isdigit() and fields[4].isdigit()) or fields[6] not in "+-.?":
                bad += 1
                continue
            kept.append(line)
    if not bad:
        return path, 0
    if not kept:
        raise AnnotationError(f"annotation {path} has no valid GTF/GFF3 feature lines ({bad} malformed)")
    suffix = ".gff3" if is_gff3(path) else ".gtf"
    with tempfile.NamedTemporaryFile("w", suffix=suffix, delete=False) as out:
        out.writelines(kept)
    return Path(out.name), bad


# The first attribute of a feature line: GFF3 ``key=value;``, GTF ``key "value";`` (or ``key value;``).
_GFF3_ATTRIBUTE = re.compile(r'\s*[^\s=;"]+=')
_GTF_ATTRIBUTE = re.compile(r'\s*[^\s=;"]+\s+\S')
_SNIFF_LINES = 1_000  # feature lines read before trusting the file name


def _format_of_content(path: Path) -> str | None:
    """``"gff3"`` or ``"gtf"`` as the file's content says (a ``##gff-version 3`` line, else the
    attributes of its first feature lines), or None if it says neither."""
    with open_text(path) as handle:
        features = 0
        for line in handle:
            if line.startswith("##gff-version"):
                return "gff3" if line.split()[1:2] and line.split()[1].startswith("3") else None
            if line.startswith("#") or not line.strip():
                continue
            fields = line.rstrip("\n").split("\t")
            if len(fields) == 9:
                if _GFF3_ATTRIBUTE.match(fields[8]):
                    return "gff3"
                if _GTF_ATTRIBUTE.match(fields[8]):
                    return "gtf"
            features += 1
            if features >= _SNIFF_LINES:
                break
    return None


@lru_cache(maxsize=32)
def _format_of(path: Path, mtime_ns: int, size: int) -> str:
    by_content = _format_of_content(path)
    if by_content:
        return by_content
    name = path.name.lower().removesuffix(".gz")
    return "gff3" if name.endswith((".gff3", ".gff")) else "gtf"


def is_gff3(path: str | os.PathLike) -> bool:
    """Whether an annotation is GFF3 (else GTF), judged by its content, whatever its name says: a
    ``##gff-version 3`` line or ``key=value`` attributes. The name decides only when the content
    has neither (no feature line with attributes)."""
    path = Path(path)
    stat = path.stat()
    return _format_of(path, stat.st_mtime_ns, stat.st_size) == "gff3"


def _read_features(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise AnnotationError(f"annotation {path} does not exist")
    clean, bad = _drop_malformed(path)
    if bad:
        warnings.warn(f"annotation {path.name}: skipped {bad} malformed line(s)", stacklevel=3)
    gff3 = is_gff3(path)
    try:
        if gff3:
            df = pr.read_gff3(str(clean), as_df=True)
        else:
            df = pr.read_gtf(str(clean), as_df=True, duplicate_attr=True)
    except Exception as err:  # pyranges raises bare pandas/attribute errors on odd input
        raise AnnotationError(f"annotation {path} cannot be parsed as {'GFF3' if gff3 else 'GTF'}: {err}") from None
    finally:
        if clean != path:
            clean.unlink()
    if df.empty:
        raise AnnotationError(f"annotation {path} has no feature lines")
    return df


def _column(df: pd.DataFrame, *names: str) -> pd.Series:
    """The first attribute column present among ``names`` (as strings), else empty strings."""
    for name in names:
        if name in df.columns:
            return df[name].astype("string").fillna("")
    return pd.Series("", index=df.index, dtype="string")


def _strip_prefix(ids: pd.Series) -> pd.Series:
    return ids.str.replace(r"^(gene|transcript|rna)[:-]", "", regex=True)


def _normalise(df: pd.DataFrame, gff3: bool) -> pd.DataFrame:
    """One frame with columns feature, chrom, strand, start, end, gene_id, gene_name, gene_type,
    transcript_id, tags (comma-separated) for gene, transcript and exon rows."""
    out = pd.DataFrame(
        {
            "feature": df["Feature"].astype(str),
            "chrom": df["Chromosome"].astype(str),
            "strand": df["Strand"].astype(str),
            "start": df["Start"].astype(np.int64),
            "end": df["End"].astype(np.int64),
            "gene_type": _column(df, "gene_type", "gene_biotype", "biotype"),
            "tags": _column(df, "tag"),
        }
    )
    if gff3:
        ids, parents = _column(df, "ID"), _column(df, "Parent").str.split(",").str[0].fillna("")
        is_gene = out.feature.isin(_GENE_FEATURES)
        is_tx = out.feature.isin(_TRANSCRIPT_FEATURES) | (out.feature == "exon")
        gene_of_tx = dict(
            zip(ids[out.feature.isin(_TRANSCRIPT_FEATURES)], parents[out.feature.isin(_TRANSCRIPT_FEATURES)])
        )
        raw_gene = ids.where(is_gene, parents.where(~(out.feature == "exon"), parents.map(gene_of_tx).fillna("")))
        explicit = _column(df, "gene_id")
        out["gene_id"] = explicit.where(explicit != "", _strip_prefix(raw_gene))
        out["transcript_id"] = ids.where(out.feature != "exon", parents).where(is_tx, "")
        out["gene_name"] = _column(df, "Name", "gene_name", "gene").where(is_gene, _column(df, "gene", "gene_name"))
        out["feature"] = out.feature.where(~out.feature.isin(_TRANSCRIPT_FEATURES), "transcript")
        out["feature"] = out.feature.where(~is_gene, "gene")
    else:
        out["gene_id"] = _column(df, "gene_id")
        out["transcript_id"] = _column(df, "transcript_id")
        out["gene_name"] = _column(df, "gene_name", "gene")
    out["gene_name"] = out.gene_name.where(out.gene_name != "", out.gene_id)
    return out[out.feature.isin(["gene", "transcript", "exon"]) & (out.gene_id != "")]


@lru_cache(maxsize=8)
def _parsed_features(path: Path, mtime_ns: int, size: int) -> pd.DataFrame:
    """Normalised features of one version of a file, parsed (and its malformed lines warned about)
    once per process however many gene tables are made from it."""
    return _normalise(_read_features(path), is_gff3(path))


def read_genes(path: str | os.PathLike, gene_filter: GeneFilter = GeneFilter()) -> pd.DataFrame:
    """The filtered gene table of an annotation file (see module docstring for columns).

    Raises
    ------
    AnnotationError
        If the file is missing or unparsable, or no gene is left after the filters.
    """
    path = Path(path)
    if not path.is_file():
        raise AnnotationError(f"annotation {path} does not exist")
    stat = path.stat()
    features = _parsed_features(path, stat.st_mtime_ns, stat.st_size).copy()
    if features.empty:
        raise AnnotationError(f"annotation {path} has no gene, transcript or exon features with a gene id")
    transcripts = features[features.feature == "transcript"]
    exons = features[features.feature == "exon"]
    if transcripts.empty:  # exon-only files: one pseudo-transcript per (gene, transcript id)
        transcripts = exons.groupby(["gene_id", "transcript_id"], as_index=False).agg(**SPAN, tags=("tags", "first"))
    if gene_filter.tags:
        wanted = set(gene_filter.tags)
        has_tag = transcripts.tags.str.split(",").map(lambda tags: bool(wanted.intersection(tags)))
        transcripts = transcripts[has_tag.to_numpy(dtype=bool)]  # an empty object mask would select columns
        exons = exons[exons.transcript_id.isin(set(transcripts.transcript_id))]
    genes = features[features.feature == "gene"].drop_duplicates("gene_id")
    spans = transcripts.groupby("gene_id").agg(**SPAN)
    if genes.empty:
        genes = spans.reset_index()
    elif gene_filter.tags and gene_filter.tags_drop_genes:
        genes = genes[genes.gene_id.isin(spans.index)]
    if gene_filter.gene_types:
        genes = genes[genes.gene_type.isin(gene_filter.gene_types)]
    if gene_filter.chroms:
        genes = genes[genes.chrom.isin(gene_filter.chroms)]
    genes = genes[genes.strand.isin(["+", "-"])]
    if genes.empty:
        raise AnnotationError(f"no genes left in {path.name} after filters {describe_filter(gene_filter)}")
    exon_pairs = {
        gid: np.unique(grp[["start", "end"]].to_numpy(dtype=np.int64), axis=0) for gid, grp in exons.groupby("gene_id")
    }
    table = genes[["gene_id", "gene_name", "gene_type", "chrom", "strand", "start", "end"]].copy()
    table["start"] = (table.start - gene_filter.margin).clip(lower=0)
    table["end"] = table.end + gene_filter.margin
    empty = np.zeros((0, 2), dtype=np.int64)
    table["exon_starts"] = [exon_pairs.get(g, empty)[:, 0] for g in table.gene_id]
    table["exon_ends"] = [exon_pairs.get(g, empty)[:, 1] for g in table.gene_id]
    return table.sort_values(["chrom", "start", "end"]).reset_index(drop=True)[GENE_COLUMNS]


def describe_filter(gene_filter: GeneFilter) -> str:
    parts = [
        f"gene_types={','.join(gene_filter.gene_types)}" if gene_filter.gene_types else "",
        f"tags={','.join(gene_filter.tags)}" if gene_filter.tags else "",
        f"chroms={','.join(gene_filter.chroms)}" if gene_filter.chroms else "",
        f"margin={gene_filter.margin}" if gene_filter.margin else "",
    ]
    return " ".join(p for p in parts if p) or "(none)"
