"""Writing scored records: the input VCF (or CSV) with Pangolin INFO, in input order, as results arrive.

Output goes to ``OUT.partial``, opened before any scoring (an unwritable path fails at once), and
is renamed to ``OUT`` when every record is written. Results of later runs of records wait until the
earlier ones are written, so the file always holds a prefix of the input.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import VariantError
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


def _partial(path: Path) -> Path:
    return path.with_name(path.name + ".partial")


def _open_early(path: Path):
    try:
        return open(_partial(path), "w")
    except OSError as err:
        raise VariantError(f"cannot write {path}: {err.strerror}") from None


def with_info(fields: list[str], entries: list[str]) -> str:
    """A VCF line with ``entries`` appended to its INFO column."""
    fields = list(fields) + ["."] * max(0, 8 - len(fields))
    info = fields[7]
    fields[7] = ";".join(([] if info in (".", "") else [info]) + entries)
    return "\t".join(fields)


class VariantOutput:
    """The scored copy of the input (and optionally the per-tissue table), written in input order."""

    def __init__(self, out: Path, records: list[Record], header: list[str] | None, frame: pd.DataFrame | None,
                 table: Path | None = None):
        self.out, self.records, self.frame, self.table = out, records, frame, table
        self.handle = _open_early(out)
        self.table_handle = _open_early(table) if table and table.suffix != ".parquet" else None
        self.table_rows: list[dict] = []  # parquet is written at the end
        self.pending: dict[int, tuple[int, ChunkResult]] = {}
        self.next_record = 0
        self.written = 0
        if header is not None:
            self.handle.write("\n".join(header[:-1] + [INFO_HEADER, SKIP_HEADER, header[-1]]) + "\n")
        else:
            self.frame.iloc[:0].assign(Pangolin=[]).to_csv(self.handle, index=False)

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
        self.handle.flush()
        if self.table_handle is not None and result.rows:
            pd.DataFrame(result.rows).to_csv(self.table_handle, sep="\t", index=False, float_format="%.6g",
                                             header=self.table_handle.tell() == 0)
        elif self.table is not None:
            self.table_rows += result.rows
        self.written += count

    def close(self) -> None:
        """Finish: every record must have been written; the files get their final names."""
        if self.next_record != len(self.records):
            raise VariantError(f"internal: {len(self.records) - self.next_record} records were not written")
        self.handle.close()
        os.replace(_partial(self.out), self.out)
        if self.table_handle is not None:
            self.table_handle.close()
            os.replace(_partial(self.table), self.table)
        elif self.table is not None:
            pd.DataFrame(self.table_rows).to_parquet(self.table, index=False)

    def abandon(self) -> str:
        """After an interruption: close what was written and say where it is."""
        self.handle.close()
        if self.table_handle is not None:
            self.table_handle.close()
        return f"{self.written} of {len(self.records)} records written to {_partial(self.out)}"
