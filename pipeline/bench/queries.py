"""Warm query latency on a store: a 10 kb region and a gene, each read into a table.

Without a store it builds one with the layout of a whole human chromosome (GRCh38 chr1,
248,956,422 positions, 2,000 genes in the gene table, default shards and chunks) whose queried
shards hold random float16 scores: latency then reflects the layout at full chromosome length,
not this machine's ability to compute a whole chromosome.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import zarr

from ..genome.annotation import GENE_COLUMNS
from ..store.layout import FORMAT_VERSION, create_store
from ..tracks.query import Store, to_table

CHR1 = 248_956_422
TILE, CHUNK = 1 << 20, 1 << 16


def whole_chromosome_store(path: Path, genes: int = 2_000, seed: int = 0) -> tuple[str, str]:
    """Create the synthetic store; return a 10 kb region and a gene name that lie in written shards."""
    rng = np.random.default_rng(seed)
    starts = np.sort(rng.integers(0, CHR1 - 200_000, genes))
    table = pd.DataFrame({
        "gene_id": [f"GENE{i:05d}" for i in range(genes)], "gene_name": [f"G{i}" for i in range(genes)],
        "chrom": "chr1", "start": starts, "end": starts + rng.integers(1_000, 150_000, genes),
        "strand": rng.choice(["+", "-"], genes), "gene_type": "protein_coding",
        "exon_starts": [np.array([s], dtype=np.int64) for s in starts],
        "exon_ends": [np.array([s + 500], dtype=np.int64) for s in starts],
    })[GENE_COLUMNS]
    identity = {"format_version": FORMAT_VERSION, "ensemble": "official", "dtype": "float16",
                "reference": {"digest": "synthetic", "contigs": {"chr1": CHR1}},
                "tiling": {"tile_size": TILE, "chunk_size": CHUNK, "context": 10_000}}
    create_store(path, identity, table, {"chr1": CHR1}, job={}, inputs={})
    gene = table.iloc[genes // 2]
    region_start = 100_000_000
    for name in ("p_splice", "usage"):
        array = zarr.open_array(str(path), path=f"chr1/{name}")
        for lo, hi in ((region_start, region_start + 10_000), (int(gene.start), int(gene.end))):
            lo, hi = lo // TILE * TILE, -(-hi // TILE) * TILE  # whole shards
            array[:, lo:hi] = rng.random((2, hi - lo, 4), dtype=np.float32).astype(np.float16)
    return f"chr1:{region_start + 1:,}-{region_start + 10_000:,}", str(gene.gene_name)


def time_query(store: Store, query: str, repeats: int) -> tuple[float, int]:
    """Median seconds of ``repeats`` warm runs (after one untimed run) and rows returned."""
    rows = len(to_table(store.select(query)))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        to_table(store.select(query))
        times.append(time.perf_counter() - start)
    return statistics.median(times), rows


def bench_queries(store_path: str | Path | None = None, repeats: int = 20) -> str:
    """The report: on ``store_path`` (its first gene and that gene's first 10 kb), else on the
    synthetic whole-chromosome store."""
    region = gene = None
    with tempfile.TemporaryDirectory() as tmp:
        if store_path is None:
            store_path = Path(tmp) / "chr1.zarr"
            region, gene = whole_chromosome_store(store_path)
            where = "synthetic store with the layout of all of GRCh38 chr1 (248,956,422 positions, 2,000 genes)"
        else:
            where = f"store {store_path}"
        start = time.perf_counter()
        store = Store(store_path)
        opened = time.perf_counter() - start
        if gene is None and not store.genes.empty:
            first = store.genes.iloc[0]
            gene, region = str(first.gene_name), f"{first.chrom}:{first.start + 1}-{first.start + 10_000}"
        lines = [f"queries on {where}; open {opened * 1e3:.0f} ms; warm median of {repeats}:"]
        for label, query in (("10 kb region", region), ("gene", gene)):
            if query:
                seconds, rows = time_query(store, query, repeats)
                lines.append(f"  {label:<13}{query:<32}{rows:>9,} rows {seconds * 1e3:>8.1f} ms")
    return "\n".join(lines)
