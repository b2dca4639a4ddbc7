"""An all-SNV store for the track readers' tests: every SNV of 10 bases of a BRCA1 exon end (GRCh37)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..conftest import DATA, WEIGHTS

BRCA1_BED = "chr17\t41276125\t41276135\n"  # conf/brca1_snvs.bed: 1-based 41,276,126-41,276,135


@pytest.fixture(scope="session")
def snv_store(tmp_path_factory) -> Path:
    """`saturate` of ``BRCA1_BED`` (shared, read-only)."""
    from pipeline.config import load_config
    from pipeline.precompute.driver import Execution, run_plan
    from pipeline.snvs.plan import CHUNK_SIZE, TILE_SIZE, SnvOptions, plan_snvs

    folder = tmp_path_factory.mktemp("snv_readers")
    bed = folder / "regions.bed"
    bed.write_text(BRCA1_BED)
    grch37 = DATA / "grch37-brca1"
    config = load_config(None, fasta=str(grch37 / "chr17.fa.gz"), annotation=str(grch37 / "canonical.gtf"),
                         out=str(folder / "snvs.zarr"), weights=str(WEIGHTS), tile_size=TILE_SIZE,
                         chunk_size=CHUNK_SIZE, cluster="none")
    out = Path(config.out)
    status = run_plan(plan_snvs(config, SnvOptions(regions=str(bed))), out, Execution("none"))
    assert status["tiles_done"] == status["tiles_total"]
    return out
