"""Commands around the model: predict a region, manage weights, benchmarks."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated, Optional

from . import ConfigOpt, KernelOpt, Opt, QuietOpt, WeightsNoConfigOpt, WeightsOpt, _say, app, weights_app


@app.command()
def predict(
    fasta: Annotated[Path, Opt(metavar="FILE", help="FASTA (plain or bgzip, indexed)")],
    region: Annotated[str, Opt(help="CHROM:START-END, 1-based inclusive")],
    strand: Annotated[str, Opt(help="+ or -")] = "+",
    out: Annotated[Optional[str], Opt("--out", "-o", metavar="FILE", show_default="stdout",
                                      help="TSV output (.tsv.gz: BGZF-compressed); - for stdout")] = None,
    ensemble: Annotated[str, Opt(metavar="NAME", help="official or specialised")] = "official",
    dtype: Annotated[str, Opt(metavar="NAME", help="float32, bfloat16, float16 (GPU)")] = "float32",
    device: Annotated[str, Opt(metavar="NAME", help="cpu, cuda, cuda:N")] = "cpu",
    kernel: KernelOpt = None,
    weights: WeightsNoConfigOpt = None,
    quiet: QuietOpt = False,
    head: Annotated[Optional[Path], Opt(metavar="FILE", show_default="none",
                                        help="fine-tuned head (.pt from `finetune`): adds its columns")] = None,
) -> None:
    """Score every position of a region (context fetched automatically; N beyond contig ends)."""
    from ..genome.fasta import Reference
    from ..genome.regions import check_strand, parse_region
    from ..model.head import load_head
    from ..model.spec import ModelSpec
    from ..outputs import OutputFile
    from ..predict import predict_region, write_prediction
    from ..progress import CountProgress

    parsed = parse_region(region)
    check_strand(strand)
    output = OutputFile(out or "-", "--out")
    reference = Reference(fasta)
    ens = ModelSpec.resolve(weights, ensemble=ensemble, dtype=dtype, device=device, kernel=kernel or "auto").load()
    with CountProgress("bases", enabled=not quiet) as progress:
        table = predict_region(ens, reference, parsed, strand, load_head(head, ens) if head else None,
                               on_total=progress.total, on_bases=progress.advance)
    if table.attrs["ambiguous"]:
        warnings.warn(f"{table.attrs['ambiguous']:,} IUPAC or other non-ACGTN symbols were read as N", stacklevel=1)
    with output.open() as handle:
        write_prediction(table, handle)


@weights_app.command("fetch")
def weights_fetch(
    weights: Annotated[Optional[str], Opt(metavar="DIR", show_default="$PANGOLIN_WEIGHTS, else the user directory",
                                          help="directory to download into")] = None,
    source: Annotated[Optional[str], Opt("--from", metavar="URL|DIR", show_default="the official repository",
                                         help="a mirror of the official models folder, or a local copy")] = None,
) -> None:
    """Download the 24 official v2 checkpoints, verifying each SHA-256 (by default into your user directory)."""
    from ..model.checkpoints import OFFICIAL_URL, fetch_weights, locate_weights

    target = locate_weights(weights, None, must_exist=False)
    paths = fetch_weights(target.path, source or OFFICIAL_URL)
    _say(f"{len(paths)} checkpoints verified in {target.path}")


@weights_app.command("verify")
def weights_verify(weights: WeightsOpt = None, config: ConfigOpt = None) -> None:
    """Say which weights directory is used and why, and check every checkpoint against its SHA-256."""
    from ..config import load_config
    from ..model.checkpoints import SHA256, locate_weights, verify_checkpoint

    location = locate_weights(weights, load_config(config).weights)
    _say(location.describe())
    for name in SHA256:
        verify_checkpoint(location.path, name)
    _say(f"all {len(SHA256)} checkpoints in {location.path} match their SHA-256")
