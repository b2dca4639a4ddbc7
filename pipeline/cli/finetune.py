"""The `finetune` command: train a donor/acceptor or usage head on the ensemble's hidden representation."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

from . import Opt, WeightsNoConfigOpt, _say, app


@app.command()
def finetune(
    fasta: Annotated[Path, Opt(help="reference FASTA of the training genes")],
    annotation: Annotated[Path, Opt(help="GTF/GFF3: training genes (and sites for --task sites)")],
    out: Annotated[Path, Opt(help="head checkpoint to write (.pt)")],
    task: Annotated[str, Opt(help="sites (donor/acceptor classes) or usage (regression on --targets)")] = "sites",
    targets: Annotated[Optional[str], Opt(metavar="NAME=PATH,...", show_default="none (needed by --task usage)",
                                          help="usage tracks; {strand} in PATH -> plus/minus")] = None,
    valid_chrom: Annotated[Optional[str], Opt(show_default="none", help="validate on this chromosome's genes")] = None,
    valid_genes: Annotated[Optional[str], Opt(show_default="none",
                                              help="validate on these genes (names or ids, comma-separated)")] = None,
    valid_annotation: Annotated[Optional[Path], Opt(show_default="none",
                                                    help="validate on this annotation's genes")] = None,
    valid_fasta: Annotated[Optional[Path], Opt(show_default="none",
                                               help="FASTA of --valid-annotation (default: --fasta)")] = None,
    tags: Annotated[Optional[list[str]], Opt("--tags", show_default="none",
                                             help="keep transcripts with this tag (repeatable)")] = None,
    valid_tags: Annotated[Optional[list[str]], Opt("--valid-tags", show_default="none",
                                                   help="--tags for --valid-annotation")] = None,
    gene_types: Annotated[Optional[list[str]], Opt("--gene-types", show_default="none",
                                                   help="keep genes of this type")] = None,
    epochs: Annotated[int, Opt(help="most epochs (early stopping may end sooner)")] = 30,
    lr: Annotated[float, Opt(help="AdamW learning rate")] = 1e-3,
    weight_decay: Annotated[float, Opt(help="AdamW weight decay")] = 1e-2,
    step_size: Annotated[int, Opt(help="epochs between learning-rate decays (x gamma)")] = 10,
    gamma: Annotated[float, Opt(help="learning-rate decay factor")] = 0.1,
    patience: Annotated[int, Opt(help="stop after this many epochs without a better validation loss")] = 5,
    batch_size: Annotated[int, Opt(help="bases per step")] = 4096,
    width: Annotated[int, Opt(help="hidden width of the head")] = 64,
    seed: Annotated[int, Opt(help="random seed")] = 0,
    train_backbone: Annotated[bool, Opt("--train-backbone", help="also train the networks (reference engine)")] = False,
    prior: Annotated[bool, Opt("--prior", help="sites: start from the base model's P(splice)")] = False,
    standardise: Annotated[bool, Opt("--standardise", help="standardise head inputs (training statistics)")] = False,
    ensemble: Annotated[str, Opt(help="official or specialised")] = "official",
    dtype: Annotated[str, Opt(help="compute dtype of the backbone: float32 or bfloat16")] = "float32",
    device: Annotated[str, Opt(help="cpu, cuda or cuda:N: where the backbone and head run")] = "cpu",
    cache_dir: Annotated[Optional[Path], Opt(show_default="none",
                                             help="feature cache (default: $TMPDIR/pangolin-features)")] = None,
    report: Annotated[Optional[Path], Opt(show_default="none",
                                          help="write the validation metrics and history as JSON")] = None,
    weights: WeightsNoConfigOpt = None,
) -> None:
    """Fine-tune a head on the frozen (or, with --train-backbone, trainable) Pangolin ensemble."""
    from ..finetune.driver import DEFAULT_CACHE, FinetuneSpec
    from ..finetune.driver import finetune as run_finetune
    from ..finetune.train import TrainOptions

    options = TrainOptions(epochs=epochs, lr=lr, weight_decay=weight_decay, batch_size=batch_size,
                           step_size=step_size, gamma=gamma, patience=patience, width=width, seed=seed)
    spec = FinetuneSpec(
        fasta=str(fasta), annotation=str(annotation), out=str(out), task=task, targets=targets,
        valid_chrom=valid_chrom, valid_genes=tuple(g for g in (valid_genes or "").split(",") if g),
        valid_fasta=str(valid_fasta) if valid_fasta else None,
        valid_annotation=str(valid_annotation) if valid_annotation else None,
        tags=tuple(tags or ()), valid_tags=tuple(valid_tags or ()), gene_types=tuple(gene_types or ()),
        ensemble=ensemble, weights=weights, dtype=dtype, device=device, cache_dir=str(cache_dir or DEFAULT_CACHE),
        train_backbone=train_backbone, prior=prior, standardise=standardise,
        report=str(report) if report else None, options=options,
    )
    result = run_finetune(spec, say=_say)
    after, base = result["metrics"]["after"], result["metrics"]["base"]
    _say("validation: " + ", ".join(f"{k} {v:.4f}" for k, v in {**base, **after}.items() if isinstance(v, float)))
    _say(f"wrote {out}")
