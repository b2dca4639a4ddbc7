"""Measure the half-precision errors behind certified all-SNV stores (snvs/certify.py).

For every SNV of a few windows of real genes (exons +/- 50, and deep intron), the cone passes' reference
and alternative outputs in float32 and in a half dtype. Prints per window max |diff|, the measured eps and
eta, and the share of SNVs the bound (measured over all windows, x SAFETY) leaves undecided, that a
certified store would recompute in float32. The overall (eps, eta) is what `certify.MEASURED` holds.

    python -m pipeline.bench.certify [--dtype bfloat16] [--device cpu] [--shared ../shared]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from ..genome.encode import one_hot
from ..genome.fasta import Reference
from ..model import load_ensemble
from ..model.config import ModelConfig
from ..snvs.certify import SAFETY, Certifier, measure
from ..snvs.kernel import P_SPLICE, deltas, hundredths, snv_outputs, substitutions, undecided
from ..store.labels import ALTS

DISTANCE = 50
# (FASTA under ../shared/data, chrom, first, last (1-based, inclusive), gene strand, what)
WINDOWS = [
    ("grch37-brca1/chr17.fa.gz", "chr17", 41177927, 41178114, "+", "RND2 exon 2"),
    ("grch37-brca1/chr17.fa.gz", "chr17", 41275984, 41276182, "-", "BRCA1 exon 2"),
    ("grch37-brca1/chr17.fa.gz", "chr17", 41341009, 41341186, "+", "NBR1 exon"),
    ("grch38-chr22/chr22.fa.gz", "chr22", 32066885, 32067089, "+", "SLC5A1 exon 3"),
    ("grch37-brca1/chr17.fa.gz", "chr17", 41230001, 41230150, "-", "BRCA1 intron"),
]


def window_outputs(ensemble, reference: Reference, chrom: str, first: int, last: int,
                   strand: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reference outputs, every SNV's outputs within DISTANCE (as the all-SNV kernel computes them) and each
    SNV's index in the window."""
    flank = ModelConfig().flank
    start, end = first - 1, last
    seq = reference.fetch(chrom, start - DISTANCE - flank, end + DISTANCE + flank)
    bases = seq[DISTANCE + flank : DISTANCE + flank + end - start].upper()
    pos, alts = substitutions(np.arange(len(bases)), np.array([ALTS.index(b) for b in bases]))
    return (*snv_outputs(ensemble, one_hot(seq), pos + DISTANCE + flank, alts, DISTANCE, strand), pos)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float16"])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--shared", default=os.environ.get("PANGOLIN_SHARED", "../shared"))
    parser.add_argument("--weights", default=None, help="default: $PANGOLIN_WEIGHTS")
    parser.add_argument("--then-saturate", metavar="REGION", default=None,
                        help="then `bench saturate` REGION of the BRCA1 data in the dtype, certified with the bound "
                        "just measured (in this process only), e.g. chr17:41,275,647-41,276,645")
    args = parser.parse_args(argv)
    ensembles = {dtype: load_ensemble("official", args.weights, device=args.device, dtype=dtype)
                 for dtype in ("float32", args.dtype)}
    samples, seconds = [], {dtype: 0.0 for dtype in ensembles}
    for fasta, chrom, first, last, strand, what in WINDOWS:
        reference = Reference(str(Path(args.shared) / "data" / fasta))
        outputs = {}
        for dtype, ensemble in ensembles.items():
            started = time.perf_counter()
            ref, alt, pos = window_outputs(ensemble, reference, chrom, first, last, strand)
            seconds[dtype] += time.perf_counter() - started
            outputs[dtype] = (ref, alt, *deltas(ref, alt, pos))
        samples.append((what, outputs["float32"], outputs[args.dtype]))
    fits = [measure(np.concatenate([o32[0][..., P_SPLICE].ravel(), o32[1][..., P_SPLICE].ravel()]),
                    np.concatenate([o[0][..., P_SPLICE].ravel(), o[1][..., P_SPLICE].ravel()]),
                    o32[3], o[3], o[2], o[1][..., P_SPLICE]) for _, o32, o in samples]
    eps, eta = (max(f[i] for f in fits) for i in (0, 1))
    bound = Certifier(args.dtype, args.device, eps * SAFETY, eta * SAFETY)
    print(f"{'window':<15} {'SNVs':>5} {'max|diff|':>10} {'eps':>8} {'eta':>8} {'undecided':>10}")
    for (what, o32, o), (w_eps, w_eta) in zip(samples, fits, strict=True):
        diff = max(np.abs(o32[0] - o[0]).max(), np.abs(o32[1] - o[1]).max())
        gain, loss = hundredths(o[3].max(axis=(1, 2))), hundredths(o[3].min(axis=(1, 2)))
        share = undecided(bound, o[3], o[2], o[1][..., P_SPLICE], None, gain, loss).mean()
        print(f"{what:<15} {len(o[1]):>5} {diff:>10.2e} {w_eps:>8.4f} {w_eta:>8.4f} {share:>10.1%}")
    print(f"overall ({args.dtype} on {args.device}): eps {eps:.4f}, eta {eta:.4f}; undecided with SAFETY {SAFETY:g} "
          f"(no mask). The cone passes took {seconds['float32']:.0f} s in float32, {seconds[args.dtype]:.0f} s in "
          f"{args.dtype} (timings mean something only on a quiet machine: `bench saturate` times the store)")
    if args.then_saturate:
        saturate_certified(args, eps, eta)


def saturate_certified(args: argparse.Namespace, eps: float, eta: float) -> None:
    """`bench saturate` in the half dtype with the bound just measured (a dtype and device whose bound is not
    in `certify.MEASURED` yet: a GPU's float16 before its figures are in the code)."""
    from ..genome.regions import parse_region
    from ..snvs import certify
    from .snvs import bench_saturate

    certify.MEASURED[(args.dtype, args.device.split(":")[0])] = (eps, eta)
    region = parse_region(args.then_saturate)
    data = Path(args.shared) / "data" / "grch37-brca1"
    for dtype in ("float32", args.dtype):
        print(bench_saturate(str(data / "chr17.fa.gz"), str(data / "canonical.gtf"), region.chrom, region.start,
                             region.end, args.weights, device=args.device, dtype=dtype))


if __name__ == "__main__":
    main()
