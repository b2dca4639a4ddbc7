"""Where the benchmarks take real inputs from: the project's shared test data (../shared/data).

The data are not part of the package; a checkout has them beside the repository. ``--data`` (or
``PANGOLIN_SHARED``, the folder holding ``data/``) points elsewhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import PipelineError

DEFAULT_SHARED = Path(__file__).resolve().parents[2].parent / "shared"


@dataclass(frozen=True)
class BenchData:
    """Paths of the benchmark inputs inside a shared data folder."""

    root: Path

    @property
    def chr22_fasta(self) -> Path:
        return self.root / "grch38-chr22" / "chr22.fa.gz"

    @property
    def brca1(self) -> tuple[str, str, str]:
        """ClinVar BRCA1 VCF, chr17 FASTA, canonical GTF (GRCh37)."""
        brca = self.root / "grch37-brca1"
        return str(brca / "clinvar_20180701.BRCA1.vcf"), str(brca / "chr17.fa.gz"), str(brca / "canonical.gtf")


def bench_data(data: str | os.PathLike | None = None) -> BenchData:
    """The benchmark data folder: ``data``, else ``$PANGOLIN_SHARED/data``, else ../shared/data.

    Raises
    ------
    PipelineError
        If the folder does not exist.
    """
    root = Path(data) if data else Path(os.environ.get("PANGOLIN_SHARED", DEFAULT_SHARED)) / "data"
    if not root.is_dir():
        raise PipelineError(f"benchmark data folder {root} does not exist: give --data DIR (the shared test data)")
    return BenchData(root)
