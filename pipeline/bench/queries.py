"""Warm query latency on a store: a 10 kb region and a gene, each read into a table; the cost of opening.

Without a store it builds one with the layout of a whole human chromosome (GRCh38 chr1,
248,956,422 positions, 2,000 genes in the gene table, default shards and chunks) whose queried
shards hold random float16 scores: latency then reflects the layout at full chromosome length,
not this machine's ability to compute a whole chromosome. Opening is also measured on the
metadata of a whole-genome layout (GRCh38's 25 chromosomes, 20,000 genes).
"""

from __future__ import annotations

import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import zarr

from ..genome.annotation import GENE_COLUMNS
from ..store import consolidate
from ..store.identity import FORMAT_VERSION
from ..tracks.layout import create_store
from ..tracks.query import to_table
from ..tracks.reader import TrackReader, open_store

CHR1 = 248_956_422
# GRCh38 primary assembly: chromosome lengths (UCSC hg38 chrom.sizes).
GRCH38 = {"chr1": 248_956_422, "chr2": 242_193_529, "chr3": 198_295_559, "chr4": 190_214_555, "chr5": 181_538_259,
          "chr6": 170_805_979, "chr7": 159_345_973, "chr8": 145_138_636, "chr9": 138_394_717, "chr10": 133_797_422,
          "chr11": 135_086_622, "chr12": 133_275_309, "chr13": 114_364_328, "chr14": 107_043_718,
          "chr15": 101_991_189, "chr16": 90_338_345, "chr17": 83_257_441, "chr18": 80_373_285, "chr19": 58_617_616,
          "chr20": 64_444_167, "chr21": 46_709_983, "chr22": 50_818_468, "chrX": 156_040_895, "chrY": 57_227_415,
          "chrM": 16_569}
TILE, CHUNK = 1 << 20, 1 << 16


def synthetic_genes(rng: np.random.Generator, genes: int, contigs: dict[str, int]) -> pd.DataFrame:
    """Random genes: sorted starts on the first contig's scale, spread over ``contigs`` (folded into each)."""
    starts = np.sort(rng.integers(0, next(iter(contigs.values())) - 200_000, genes))
    table = pd.DataFrame({
        "gene_id": [f"GENE{i:05d}" for i in range(genes)], "gene_name": [f"G{i}" for i in range(genes)],
        "chrom": next(iter(contigs)), "start": starts, "end": starts + rng.integers(1_000, 150_000, genes),
        "strand": rng.choice(["+", "-"], genes), "gene_type": "protein_coding",
        "exon_starts": [np.array([s], dtype=np.int64) for s in starts],
        "exon_ends": [np.array([s + 500], dtype=np.int64) for s in starts],
    })[GENE_COLUMNS]
    if len(contigs) > 1:
        table["chrom"] = rng.choice([c for c, n in contigs.items() if n > 1_000_000], genes)
        shift = table.start - table.start % np.array([max(contigs[c] - 200_000, 1) for c in table.chrom])
        for column in ("start", "end"):
            table[column] = table[column] - shift
        table["exon_starts"] = [a - d for a, d in zip(table.exon_starts, shift)]
        table["exon_ends"] = [a - d for a, d in zip(table.exon_ends, shift)]
    return table


def empty_store(path: Path, contigs: dict[str, int], genes: int = 2_000, seed: int = 0) -> pd.DataFrame:
    """A store of ``contigs`` with default shards and chunks, metadata only (consolidated, as a finished
    run leaves it); returns its gene table."""
    table = synthetic_genes(np.random.default_rng(seed), genes, contigs)
    create_synthetic(path, table, contigs)
    consolidate(path)
    return table


def create_synthetic(path: Path, table: pd.DataFrame, contigs: dict[str, int]) -> None:
    """An empty track store of ``contigs`` with the default shards and chunks (metadata only)."""
    identity = {"format_version": FORMAT_VERSION, "ensemble": "official", "dtype": "float16",
                "reference": {"digest": "synthetic", "contigs": contigs},
                "tiling": {"tile_size": TILE, "chunk_size": CHUNK, "context": 10_000}}
    create_store(path, identity, table, contigs, job={}, inputs={})


def whole_chromosome_store(path: Path, genes: int = 2_000, seed: int = 0) -> tuple[str, str]:
    """Create the synthetic store; return a 10 kb region and a gene name that lie in written shards."""
    rng = np.random.default_rng(seed)
    table = synthetic_genes(rng, genes, {"chr1": CHR1})
    create_synthetic(path, table, {"chr1": CHR1})
    gene = table.iloc[genes // 2]
    region_start = 100_000_000
    for name in ("p_splice", "usage"):
        array = zarr.open_array(str(path), path=f"chr1/{name}")
        for lo, hi in ((region_start, region_start + 10_000), (int(gene.start), int(gene.end))):
            lo, hi = lo // TILE * TILE, -(-hi // TILE) * TILE  # whole shards
            array[:, lo:hi] = rng.random((2, hi - lo, 4), dtype=np.float32).astype(np.float16)
    consolidate(path)  # as a finished run leaves it
    return f"chr1:{region_start + 1:,}-{region_start + 10_000:,}", str(gene.gene_name)


def _open_first_chromosome(path: Path) -> object:
    store = TrackReader(path)
    return store.dataset(store.chroms[0])


def measure_open(open_: Callable[[], object], repeats: int = 3) -> tuple[float, float]:
    """Median seconds of ``repeats`` calls of ``open_``, and the peak traced MB (Python and numpy
    allocations) of one more call (traced separately: tracing slows Python down)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        open_()
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    open_()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return statistics.median(times), peak / 1e6


def time_query(store: TrackReader, query: str, repeats: int) -> tuple[float, int]:
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
        _open_first_chromosome(store_path)  # imports and xarray's engine list, once per process
        seconds, mb = measure_open(lambda: _open_first_chromosome(store_path))
        tree_seconds, tree_mb = measure_open(lambda: open_store(store_path))
        genome = Path(tmp) / "grch38.zarr"
        empty_store(genome, GRCH38, genes=20_000)
        genome_seconds, genome_mb = measure_open(lambda: open_store(genome))
        store = TrackReader(store_path)
        if gene is None and not store.genes.empty:
            first = store.genes.iloc[0]
            gene, region = str(first.gene_name), f"{first.chrom}:{first.start + 1}-{first.start + 10_000}"
        lines = [f"queries on {where}",
                 f"open (traced peak memory): one chromosome {seconds * 1e3:.0f} ms {mb:.1f} MB; as a DataTree "
                 f"{tree_seconds * 1e3:.0f} ms {tree_mb:.1f} MB; GRCh38 layout (25 chromosomes, 3.1 Gb, 20,000 "
                 f"genes) as a DataTree {genome_seconds * 1e3:.0f} ms {genome_mb:.1f} MB",
                 f"warm median of {repeats}:"]
        for label, query in (("10 kb region", region), ("gene", gene)):
            if query:
                seconds, rows = time_query(store, query, repeats)
                lines.append(f"  {label:<13}{query:<32}{rows:>9,} rows {seconds * 1e3:>8.1f} ms")
    return "\n".join(lines)
