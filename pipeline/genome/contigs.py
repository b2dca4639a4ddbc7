"""Contig-name aliasing between FASTA, annotation and VCF (``chr17`` <-> ``17``, ``chrM`` <-> ``MT``)."""

from __future__ import annotations

from collections.abc import Iterable

from ..errors import ContigNotFound

_MITO = {"chrM", "chrMT", "M", "MT"}


def aliases(name: str) -> list[str]:
    """Names that may denote the same contig, the name itself first."""
    if name in _MITO:
        return [name, *sorted(_MITO - {name}, key=lambda n: (n != "chrM", n != "MT", n))]
    if name.startswith("chr"):
        return [name, name[3:]]
    return [name, f"chr{name}"]


def match_contig(name: str, available: Iterable[str], what: str = "the FASTA") -> str:
    """The name under which ``name`` (or one of its aliases) appears in ``available``.

    Raises
    ------
    ContigNotFound
        If neither the name nor any alias is present.
    """
    known = available if isinstance(available, (set, dict, frozenset)) else set(available)
    for candidate in aliases(name):
        if candidate in known:
            return candidate
    sample = ", ".join(sorted(known)[:5])
    raise ContigNotFound(f"contig {name!r} is not in {what} (tried {', '.join(aliases(name))}; it has {sample}...)")
