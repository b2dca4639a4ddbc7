"""Writing scored records: the input VCF (or CSV) with Pangolin INFO, in input order, as results arrive.

The outputs are `OutputFile` s opened before any scoring (an unwritable path fails at once); a regular
file appears under its name only when every record is written (see `pipeline.outputs`). Results
of later runs of records wait until the earlier ones are written, so the stream always holds a
prefix of the input. Every VCF written carries its provenance in the header (`provenance_header`).
"""

from __future__ import annotations

import shlex
import sys
from collections import Counter, defaultdict
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from .. import __version__
from ..errors import VariantError
from ..outputs import OutputFile
from .records import Record

INFO_HEADER = ('##INFO=<ID=Pangolin,Number=.,Type=String,Description="Pangolin splice scores. '
               'Format: gene|pos:score_change|pos:score_change|warnings,...">')
SKIP_HEADER = ('##INFO=<ID=PangolinSkipped,Number=.,Type=String,Description="Why pangolin-pipeline '
               'did not score this record (ALT/reason for multi-allelic records)">')


@dataclass
class ChunkResult:
    """Scores of a run of records, keyed by record index."""

    values: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    skipped: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    counts: Counter = field(default_factory=Counter)
    rows: list[dict] = field(default_factory=list)


def provenance_header(items: dict[str, Any]) -> list[str]:
    """``##`` lines saying what made a VCF: tool version, command line and date first, then ``items``
    (reference, annotation, settings, checkpoint digests...) as ``##pangolin<Key>=value``."""
    command = " ".join(shlex.quote(arg) for arg in [Path(sys.argv[0]).name, *sys.argv[1:]])
    lines = [f"##source=pangolin-pipeline {__version__}", f"##pangolinCommand={command}",
             f"##pangolinDate={datetime.now(timezone.utc).isoformat(timespec='seconds')}"]
    for key, value in items.items():
        if isinstance(value, dict):
            value = ",".join(f"{k}:{v}" for k, v in value.items())
        elif isinstance(value, (list, tuple)):
            value = ",".join(map(str, value)) or "none"
        lines.append(f"##pangolin{key[0].upper()}{key[1:]}={value}")
    return lines


def _as_output(out: str | Path | OutputFile, option: str) -> OutputFile:
    return out if isinstance(out, OutputFile) else OutputFile(out, option)


def with_info(fields: list[str], entries: list[str]) -> str:
    """A VCF line with ``entries`` appended to its INFO column."""
    fields = list(fields) + ["."] * max(0, 8 - len(fields))
    info = fields[7]
    fields[7] = ";".join(([] if info in (".", "") else [info]) + entries)
    return "\t".join(fields)


class VariantOutput:
    """The scored copy of the input (and optionally the per-tissue table), written in input order.
    Use as a context manager: leaving it by an exception abandons the outputs (nothing is left)."""

    def __init__(self, out: str | Path | OutputFile, records: list[Record], header: list[str] | None,
                 frame: pd.DataFrame | None, table: str | Path | OutputFile | None = None,
                 provenance: dict[str, Any] | None = None):
        self.out = _as_output(out, "--out")
        self.table = _as_output(table, "--table") if table is not None else None
        self.records, self.frame = records, frame
        self.stack = ExitStack()
        self.handle = self.stack.enter_context(self.out.open())
        parquet = self.table is not None and self.table.name.lower().endswith(".parquet")
        self.table_handle = self.stack.enter_context(self.table.open()) if self.table and not parquet else None
        self.table_rows: list[dict] = []  # parquet is written at the end
        self.pending: dict[int, tuple[int, ChunkResult]] = {}
        self.next_record = 0
        self.written = self.written_rows = 0
        if header is not None:
            extra = provenance_header(provenance or {}) + [INFO_HEADER, SKIP_HEADER]
            self.handle.write("\n".join(header[:-1] + extra + [header[-1]]) + "\n")
        else:
            self.frame.iloc[:0].assign(Pangolin=[]).to_csv(self.handle, index=False)

    def __enter__(self) -> VariantOutput:
        return self

    def __exit__(self, kind, error, traceback) -> None:
        if error is None:
            self.close()
        else:
            self.stack.__exit__(kind, error, traceback)

    def add(self, first: int, count: int, result: ChunkResult) -> None:
        """Results of records [first, first + count); written as soon as all earlier records are."""
        self.pending[first] = (count, result)
        while self.next_record in self.pending:
            count, result = self.pending.pop(self.next_record)
            self._write(self.next_record, count, result)
            self.next_record += count

    def _write(self, first: int, count: int, result: ChunkResult) -> None:
        indexes = range(first, first + count)
        if self.frame is not None:
            column = [",".join(result.values[i]) for i in indexes]
            self.frame.iloc[first : first + count].assign(Pangolin=column).to_csv(self.handle, index=False,
                                                                                  header=False)
        else:
            for i in indexes:
                entries = []
                if result.values[i]:
                    entries.append("Pangolin=" + ",".join(result.values[i]))
                if result.skipped[i]:
                    entries.append("PangolinSkipped=" + ",".join(result.skipped[i]))
                self.handle.write(with_info(self.records[i].fields, entries) + "\n")
        if self.table_handle is not None and result.rows:
            # floats as Python prints them: each parses back to exactly the value computed
            pd.DataFrame(result.rows).to_csv(self.table_handle, sep="\t", index=False,
                                             header=self.written_rows == 0)
            self.written_rows += len(result.rows)
        elif self.table is not None:
            self.table_rows += result.rows
        self.written += count

    def close(self) -> None:
        """Finish: every record must have been written; the files get their final names."""
        if self.next_record != len(self.records):
            raise VariantError(f"internal: {len(self.records) - self.next_record} records were not written")
        if self.table is not None and self.table_handle is None:
            with self.table.open(binary=True) as handle:
                pd.DataFrame(self.table_rows).to_parquet(handle, index=False)
        self.stack.close()

    def abandon(self, error: BaseException) -> str:
        """After ``error`` (or an interruption): drop the unfinished outputs, say how far the work got."""
        self.stack.__exit__(type(error), error, error.__traceback__)
        kept = "" if self.out.stream else f"; nothing written to {self.out}"
        return f"{self.written} of {len(self.records)} records were done{kept}"
