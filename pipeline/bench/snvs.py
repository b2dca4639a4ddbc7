"""`bench --saturate`: SNVs/s of the all-SNV store against `score` and the official-style path, same run."""

from __future__ import annotations

import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..config import load_config
from ..genome.fasta import Reference
from ..model import load_ensemble
from ..model.config import ModelConfig
from ..model.cost import cone_macs
from ..model.spec import default_threads
from ..precompute.driver import Execution, init_plan, run_plan
from ..precompute.plan import Plan
from ..snvs.annotate import lookup_strings
from ..snvs.layout import FILLS
from ..snvs.plan import CHUNK_SIZE, TILE_SIZE, SnvOptions, plan_snvs
from ..snvs.reader import SnvReader
from ..variants.driver import score_variants
from ..variants.records import parse_vcf_line
from ..variants.scorer import ScoreOptions, VariantScorer, load_genes
from .engine import official_style_rate

VCF_HEADER = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"


# Rough sizes of genome-wide all-SNV stores (3 SNVs a base), for the estimate `bench saturate` prints: MANE
# exons +/- 50 (~50 Mb of GRCh38) and every gene body (~2 Gb)
GENOME_SCALE = {"MANE exons +/- 50": 150e6, "all gene bodies": 6.1e9}


def bench_saturate(fasta: str, annotation: str, chrom: str, start: int, end: int, weights: str | None,
                   n_official: int = 3, device: str = "cpu", kernel: str = "auto", dtype: str = "float32") -> str:
    """Saturate [start, end) (0-based) of ``chrom``; score the same SNVs from a VCF; time the official-style
    path on ``n_official`` of them; check that the store and `score` agree to the last printed digit (in half
    precision, certified: the offset of a 0.00 value is free, see snvs/certify.py)."""
    reference = Reference(fasta)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        plan = region_plan(tmp, "snvs.zarr", fasta, annotation, chrom, start, end, weights, device=device,
                           kernel=kernel, dtype=dtype)
        model = plan.job.model.with_threads(default_threads(1))
        model.load()  # loaded before timing, as `score`'s is (and float32's, which a certified run recomputes with)
        replace(model, dtype="float32").load()
        started = time.perf_counter()
        status = run_plan(plan, tmp / "snvs.zarr", Execution("none"))
        saturate_rate = plan.details["snvs"] / (time.perf_counter() - started)
        snvs, lines = [], []
        for pos in range(start + 1, end + 1):
            ref = reference.fetch(chrom, pos - 1, pos).upper()
            for alt in "ACGT":
                if alt != ref and ref in "ACGT":
                    snvs.append(f"{chrom}:{pos}:{ref}:{alt}")
                    lines.append(f"{chrom}\t{pos}\t.\t{ref}\t{alt}\t.\t.\t.")
        vcf = tmp / "snvs.vcf"
        vcf.write_text(VCF_HEADER + "\n".join(lines) + "\n")
        options = ScoreOptions()
        genes = load_genes(annotation, options)
        scorer = VariantScorer(load_ensemble("official", weights, device=device, kernel=kernel), reference, genes,
                               options)
        started = time.perf_counter()
        score_variants(vcf, scorer, tmp / "scored.vcf")
        score_rate = len(snvs) / (time.perf_counter() - started)
        scored = (tmp / "scored.vcf").read_text().splitlines()
        computed = [line.split("\t")[7].removeprefix("Pangolin=") for line in scored if not line.startswith("#")]
        stored = [value for _, value, _ in lookup_strings(SnvReader(tmp / "snvs.zarr"), snvs)]
        same = sum(a == b for a, b in zip(stored, computed, strict=True))
        alike = sum(same_summary(a, b) for a, b in zip(stored, computed, strict=True))
        official_rate, _ = official_style_rate(weights, reference, genes,
                                               [parse_vcf_line(n, line) for n, line in enumerate(lines[:n_official])],
                                               device)
    gflops = cone_flops(ScoreOptions().distance) * saturate_rate / 1e9
    certified = ""
    if "snvs_recomputed" in status:
        certified = (f"; certified: {status['snvs_recomputed']}/{status['snvs_run']} SNVs recomputed in float32, store "
                     f"equals score output for {alike}/{len(snvs)} (offsets of 0.00 free)")
    scale = ", ".join(f"{name} (~{count / 1e6:,.0f} M SNVs) {count / saturate_rate / 3600:,.0f} h"
                      for name, count in GENOME_SCALE.items())
    return (f"saturate ({dtype}, kernel {kernel}, {device}): {len(snvs)} SNVs of {chrom}:{start + 1:,}-{end:,} "
            f"at {saturate_rate:.2f} SNVs/s; "
            f"score on a VCF of the same SNVs {score_rate:.2f} SNVs/s (float32); official-style {official_rate:.3f} "
            f"SNVs/s ({n_official} SNVs)\nsaturate / official-style = {saturate_rate / official_rate:.1f}x, "
            f"saturate / score = {saturate_rate / score_rate:.2f}x; store equals score output for {same}/{len(snvs)}"
            f"{certified}; saturate executes {gflops:.0f} GFLOP/s in its cone passes ({cone_flops(50) / 1e9:.1f} "
            f"GFLOP per SNV)\nat this rate on one such device: {scale}")


def region_plan(folder: Path, name: str, fasta: str, annotation: str, chrom: str, start: int, end: int,
                weights: str | None, **config) -> Plan:
    """The plan of an all-SNV store ``folder/name`` of [start, end) (0-based) of ``chrom``, inline, with the
    store's default tiling and ``config``'s other run settings (device, kernel, dtype)."""
    bed = folder / "region.bed"
    bed.write_text(f"{chrom}\t{start}\t{end}\n")
    run = load_config(None, fasta=fasta, annotation=annotation, out=str(folder / name), weights=weights,
                      cluster="none", tile_size=TILE_SIZE, chunk_size=CHUNK_SIZE, **config)
    return plan_snvs(run, SnvOptions(regions=str(bed)))


def compare_devices(fasta: str, annotation: str, chrom: str, start: int, end: int, weights: str | None,
                    devices: tuple[str, str] = ("cuda", "cpu")) -> str:
    """Saturate [start, end) (0-based) of ``chrom`` in float32 on each of two devices and compare the stores:
    gain and loss everywhere, offsets where the value is not 0.00 and everywhere."""
    import zarr

    stores = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for device in devices:
            out = tmp / f"{device.replace(':', '_')}.zarr"
            run_plan(region_plan(tmp, out.name, fasta, annotation, chrom, start, end, weights, device=device), out,
                     Execution("none"))
            group = zarr.open_group(str(out), path=chrom, mode="r")
            stores[device] = {name: group[name][start:end] for name in ("gain", "loss", "gain_pos", "loss_pos")}
    first, second = (stores[d] for d in devices)
    stored = first["gain"] != FILLS["gain"]  # not the REF's own alt, nor an empty gene slot
    parts = []
    for name in ("gain", "loss"):
        nonzero = stored & (first[name] != 0)
        same, same_at = first[name] == second[name], first[f"{name}_pos"] == second[f"{name}_pos"]
        parts.append(f"{name} {np.sum(same & stored)}/{stored.sum()}, its offset {np.sum(same_at & nonzero)}/"
                     f"{nonzero.sum()} where not 0.00 and {np.sum(same_at & stored)}/{stored.sum()} in all")
    where = f"{chrom}:{start + 1:,}-{end:,}"
    return f"float32 stores of {where} on {devices[0]} and {devices[1]} equal: " + "; ".join(parts)


def same_summary(stored: str, computed: str) -> bool:
    """Whether two `score` summaries (GENE|pos:gain|pos:loss|Warnings:, comma-separated per gene) agree, the
    offset of a value that rounds to 0.00 excepted (certified stores leave it free)."""
    if stored == computed:
        return True
    a, b = stored.split(","), computed.split(",")
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        fx, fy = x.split("|"), y.split("|")
        if len(fx) != len(fy) or fx[0] != fy[0] or fx[3:] != fy[3:]:
            return False
        for px, py in zip(fx[1:3], fy[1:3], strict=True):
            (ox, vx), (oy, vy) = px.split(":"), py.split(":")
            if float(vx) != float(vy) or (ox != oy and float(vx) != 0):
                return False
    return True


def cone_flops(distance: int, networks: int = 12) -> float:
    """Floating-point operations of one SNV's cone-of-influence passes through the ensemble's networks."""
    return 2.0 * networks * cone_macs(ModelConfig(), 1, distance)


def bench_lookup(fasta: str, annotation: str, weights: str | None, n: int = 100_000, seed: int = 0) -> str:
    """records/s of VCF annotation from an all-SNV store (`lookup --vcf`) with ``n`` SNVs inside it.

    The store has the real layout of every gene body of ``annotation`` (``--regions genes``) but its
    values are random (computing them would take hours on a CPU): this measures reading, not the model.
    """
    from ..snvs.annotate import annotate_vcf
    from ..store.manifest import Manifest

    rng = np.random.default_rng(seed)
    reference = Reference(fasta)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        config = load_config(None, fasta=fasta, annotation=annotation, out=str(tmp / "snvs.zarr"), weights=weights,
                             cluster="none", tile_size=TILE_SIZE, chunk_size=CHUNK_SIZE)
        plan = plan_snvs(config, SnvOptions(regions="genes"))
        init_plan(plan, tmp / "snvs.zarr")
        positions = []
        for tile in Manifest(tmp / "snvs.zarr").tiles():
            for start, end in tile.segments:
                seq = reference.fetch(tile.chrom, start, end).upper().encode()
                _fill_random(tmp / "snvs.zarr", tile.chrom, start, seq, rng)
                positions += [(tile.chrom, start + i + 1, chr(b)) for i, b in enumerate(seq) if chr(b) in "ACGT"]
        picks = rng.choice(len(positions), size=min(n, len(positions)), replace=False)
        lines = []
        for k in sorted(picks, key=lambda k: positions[k][1]):
            chrom, pos, ref = positions[k]
            lines.append(f"{chrom}\t{pos}\t.\t{ref}\t{rng.choice([b for b in 'ACGT' if b != ref])}\t.\t.\t.")
        vcf = tmp / "snvs.vcf"
        vcf.write_text(VCF_HEADER + "\n".join(lines) + "\n")
        started = time.perf_counter()
        counts = annotate_vcf(SnvReader(tmp / "snvs.zarr"), vcf, tmp / "annotated.vcf")
        elapsed = time.perf_counter() - started
    return (f"lookup --vcf: {len(lines):,} SNVs ({counts['from_store']:,} answered) annotated in {elapsed:.1f} s = "
            f"{len(lines) / elapsed:,.0f} records/s (store of {plan.details['snvs']:,} SNVs, gene bodies of "
            f"{Path(annotation).name}; random values)")


def _fill_random(store: Path, chrom: str, start: int, seq: bytes, rng: np.random.Generator) -> None:
    """Random but well-formed official summaries for every SNV of ``seq`` at ``start`` (one gene slot)."""
    import zarr

    n = len(seq)
    group = zarr.open_group(str(store), path=chrom, mode="r+")
    ref = np.frombuffer(seq, dtype=np.uint8).copy()
    ref[~np.isin(ref, np.frombuffer(b"ACGT", dtype=np.uint8))] = 0
    window = slice(start, start + n)
    group["ref"][window] = ref
    gene = np.full((n, group["gene"].shape[1]), -1, dtype=np.int32)
    gene[:, 0] = 0
    group["gene"][window] = gene
    shape = (n, 4, group["gene"].shape[1])
    group["gain"][window] = rng.integers(0, 100, shape).astype(np.int8)
    group["loss"][window] = -rng.integers(0, 100, shape).astype(np.int8)
    group["gain_pos"][window] = rng.integers(-50, 51, shape).astype(np.int16)
    group["loss_pos"][window] = rng.integers(-50, 51, shape).astype(np.int16)
