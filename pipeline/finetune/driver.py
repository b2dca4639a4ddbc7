"""Fine-tuning end to end: genes -> train/validation split -> cached features and labels -> head -> checkpoint."""

from __future__ import annotations

import json
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ..errors import AnnotationError, ConfigError, TargetError
from ..genome.annotation import GeneFilter, read_genes
from ..genome.digest import sha256_file
from ..genome.fasta import Reference
from ..genome.genes import genes_on_reference
from ..model.checkpoints import resolve_weights
from ..model.ensemble import Ensemble
from ..model.head import SITE_CLASSES, TokenHead, save_head
from ..model.spec import ModelSpec
from .backbone import features_split, fit_backbone
from .features import Segment, extract_features, gene_segments
from .labels import TargetSpec, check_usage, parse_targets, site_labels, splice_sites, usage_targets
from .metrics import base_site_metrics, pearson
from .train import Split, TrainOptions, evaluate, fit, site_class_weights

DEFAULT_CACHE = Path(tempfile.gettempdir()) / "pangolin-features"
MAX_UNKNOWN = 0.5  # genes whose body is more than half N are unknown sequence, not training data


@dataclass(frozen=True)
class FinetuneSpec:
    """What to train on and how. Validation: ``valid_annotation`` (with ``valid_fasta``, default the
    training FASTA), or the genes of ``valid_chrom``, or ``valid_genes`` held out of the annotation."""

    fasta: str
    annotation: str
    out: str
    task: str = "sites"
    targets: str | None = None
    valid_chrom: str | None = None
    valid_genes: tuple[str, ...] = ()
    valid_fasta: str | None = None
    valid_annotation: str | None = None
    tags: tuple[str, ...] = ()
    valid_tags: tuple[str, ...] = ()  # tags of --valid-annotation (its own file, its own tag names)
    gene_types: tuple[str, ...] = ()
    ensemble: str = "official"
    weights: str | None = None
    dtype: str = "float32"
    device: str = "cpu"  # where the backbone runs (features, --train-backbone); the head trains there too
    feature_dtype: str = "float16"
    cache_dir: str | None = str(DEFAULT_CACHE)
    train_backbone: bool = False
    prior: bool = False  # sites heads start from the base model's P(splice) (see model/head.py)
    standardise: bool = False  # head inputs standardised with training-set statistics
    report: str | None = None
    options: TrainOptions = field(default_factory=TrainOptions)

    def __post_init__(self) -> None:
        if self.task not in ("sites", "usage"):
            raise ConfigError(f"--task must be sites or usage, got {self.task!r}")
        if (self.task == "usage") != bool(self.targets):
            raise ConfigError("--targets NAME=PATH,... is needed for --task usage, and only there")
        given = [bool(self.valid_annotation), bool(self.valid_chrom), bool(self.valid_genes)]
        if sum(given) != 1:
            raise ConfigError("give exactly one validation split: --valid-annotation (with --valid-fasta), "
                              "--valid-chrom or --valid-genes")
        if self.valid_fasta and not self.valid_annotation:
            raise ConfigError("--valid-fasta needs --valid-annotation")
        if self.feature_dtype not in ("float16", "float32"):
            raise ConfigError(f"feature dtype must be float16 or float32, got {self.feature_dtype!r}")


@dataclass
class GeneSet:
    """Genes of one split on their reference."""

    reference: Reference
    genes: pd.DataFrame


def known_sequence(genes: pd.DataFrame, reference: Reference) -> pd.DataFrame:
    """Genes whose body is mostly real sequence; the others (N stretches) are dropped with one warning."""
    unknown = [reference.fetch(g.chrom, g.start, g.end).upper().count("N") / max(g.end - g.start, 1)
               for g in genes.itertuples()]
    keep = np.asarray(unknown) <= MAX_UNKNOWN
    if not keep.all():
        warnings.warn(f"{int((~keep).sum())} gene(s) lie mostly in unknown sequence (N) and were skipped",
                      stacklevel=2)
    if not keep.any():
        raise AnnotationError("every gene lies in unknown sequence (N): nothing to train or validate on")
    return genes[keep].reset_index(drop=True)


def split_genes(spec: FinetuneSpec) -> tuple[GeneSet, GeneSet]:
    """Training and validation genes, as the spec's split says."""
    gene_filter = GeneFilter(spec.gene_types, spec.tags)
    reference = Reference(spec.fasta)
    genes = known_sequence(genes_on_reference(read_genes(spec.annotation, gene_filter), reference), reference)
    if spec.valid_annotation:
        valid_ref = Reference(spec.valid_fasta) if spec.valid_fasta else reference  # one FASTA hashed once
        valid_filter = GeneFilter(spec.gene_types, spec.valid_tags)
        valid = genes_on_reference(read_genes(spec.valid_annotation, valid_filter), valid_ref)
        return GeneSet(reference, genes), GeneSet(valid_ref, known_sequence(valid, valid_ref))
    if spec.valid_chrom:
        held = genes.chrom == reference.resolve(spec.valid_chrom)
        what = f"chromosome {spec.valid_chrom}"
    else:
        unknown = set(spec.valid_genes) - set(genes.gene_name) - set(genes.gene_id)
        if unknown:
            raise AnnotationError(f"validation gene(s) {', '.join(sorted(unknown))} are not among the genes kept")
        held = genes.gene_name.isin(spec.valid_genes) | genes.gene_id.isin(spec.valid_genes)
        what = f"genes {', '.join(spec.valid_genes)}"
    if not held.any() or held.all():
        raise AnnotationError(f"validation on {what} leaves {'no' if not held.any() else 'every'} gene "
                              "for validation; both splits need genes")
    train, valid = genes[~held].reset_index(drop=True), genes[held].reset_index(drop=True)
    return GeneSet(reference, train), GeneSet(reference, valid)


def split_labels(genes: pd.DataFrame, segments: list[Segment], task: str, targets: list[TargetSpec] | None,
                 name: str) -> np.ndarray:
    """Per-base labels of a split's segments: classes (bases,) or usage (bases, targets); checked."""
    if task == "sites":
        sites = splice_sites(genes)
        labels = np.concatenate([site_labels(sites, s.chrom, s.strand, s.start, s.end) for s in segments])
        if not (labels > 0).any():
            raise TargetError(f"the {name} genes have no annotated splice sites (single-exon transcripts only?)")
        return labels
    values = np.concatenate([usage_targets(targets, s.chrom, s.strand, s.start, s.end) for s in segments], axis=1)
    check_usage(values, [t.name for t in targets], name)
    return np.ascontiguousarray(values.T)


def labeller(genes: pd.DataFrame, task: str, targets: list[TargetSpec] | None) -> Callable[[Segment], np.ndarray]:
    """Labels of any segment, in genome order (for training windows)."""
    if task == "sites":
        sites = splice_sites(genes)
        return lambda s: site_labels(sites, s.chrom, s.strand, s.start, s.end)
    return lambda s: usage_targets(targets, s.chrom, s.strand, s.start, s.end)


def base_metrics(ensemble: Ensemble, split: Split, task: str, targets: list[TargetSpec] | None) -> dict[str, float]:
    """The base model on the validation split: P(splice) (mean over tissues) against all sites, or
    each tissue's usage channel against each target."""
    channels = ensemble.channels
    if task == "sites":
        p_splice = split.scores[:, [k for k, c in enumerate(channels) if c.endswith("_p_splice")]].mean(1)
        return base_site_metrics(p_splice, split.labels)
    return {f"{t.name}_pearson_vs_{c}": pearson(split.scores[:, k], split.labels[:, n])
            for n, t in enumerate(targets) for k, c in enumerate(channels) if c.endswith("_usage")}


def finetune(spec: FinetuneSpec, say: Callable[[str], None] = lambda _: None) -> dict:
    """Train a head as ``spec`` says, save it to ``spec.out`` (and the report to ``spec.report``); return the report."""
    targets = parse_targets(spec.targets) if spec.task == "usage" else None
    gene_sets = dict(zip(("training", "validation"), split_genes(spec)))
    segments = {name: gene_segments(g.genes, g.reference.lengths) for name, g in gene_sets.items()}
    labels = {name: split_labels(gene_sets[name].genes, segments[name], spec.task, targets, name) for name in gene_sets}
    ensemble = ModelSpec.resolve(spec.weights, ensemble=spec.ensemble, dtype=spec.dtype, device=spec.device).load()
    splits = {}
    for name, gene_set in gene_sets.items():
        say(f"{name}: {len(gene_set.genes)} genes, {len(labels[name]):,} bases")
        if name == "training" and spec.train_backbone:
            continue  # features change with the backbone: computed per step instead
        features = extract_features(ensemble, gene_set.reference, segments[name], spec.cache_dir, spec.feature_dtype)
        splits[name] = Split(features.features, labels[name], features.scores)
    valid = splits["validation"]
    outputs = SITE_CLASSES if spec.task == "sites" else tuple(t.name for t in targets)
    prior = len(ensemble.runners) if spec.task == "sites" and spec.prior else 0
    torch.manual_seed(spec.options.seed)  # the initial weights too: unseeded, two usage runs gave r 0.90 and 0.99
    head = TokenHead(valid.features.shape[1], outputs, spec.task, spec.options.width, prior).to(ensemble.device)
    if prior:
        head.set_prior(ensemble)
    if spec.standardise and "training" in splits:  # with --train-backbone the training features change
        head.set_standardisation(splits["training"].features)
    if spec.task == "sites":
        head.class_weights.copy_(site_class_weights(labels["training"]))
    before, backbone = evaluate(head, valid), None

    def log(h: dict) -> None:
        say(f"epoch {h['epoch']}: train loss {h['train_loss']:.4f}, validation loss {h['valid_loss']:.4f}")

    if spec.train_backbone:
        valid_split = features_split(gene_sets["validation"].reference, segments["validation"], labels["validation"])
        train = gene_sets["training"]
        backbone, history = fit_backbone(ensemble, resolve_weights(spec.weights), head, train.reference,
                                         segments["training"], labeller(train.genes, spec.task, targets),
                                         valid_split, spec.options, log=log)
        valid = valid_split(backbone.as_ensemble(ensemble))
    else:
        history = fit(head, splits["training"], valid, spec.options, log=log)
    report = {
        "task": spec.task, "outputs": head.columns,
        "metrics": {"base": base_metrics(ensemble, splits["validation"], spec.task, targets), "before": before,
                    "after": evaluate(head, valid)},
        "best_epoch": min(history, key=lambda h: h["valid_loss"])["epoch"], "history": history,
        "trained_on": _provenance(spec, gene_sets, targets, labels),
        "hyperparameters": {**asdict(spec.options), "feature_dtype": spec.feature_dtype, "dtype": spec.dtype,
                            "train_backbone": spec.train_backbone, "prior": bool(prior),
                            "standardise": spec.standardise},
    }
    save_head(spec.out, head.cpu(), ensemble, report, backbone.cpu() if backbone is not None else None)
    if spec.report:
        Path(spec.report).write_text(json.dumps(report, indent=1, default=float) + "\n")
    return report


def _provenance(spec: FinetuneSpec, gene_sets: dict[str, GeneSet], targets: list[TargetSpec] | None,
                labels: dict[str, np.ndarray]) -> dict:
    # FASTA digests from the references that features were keyed by (hashed once per file)
    fastas = {"fasta": (spec.fasta, gene_sets["training"].reference),
              "valid_fasta": (spec.valid_fasta, gene_sets["validation"].reference)}
    annotations = {"annotation": spec.annotation, "valid_annotation": spec.valid_annotation}
    return {
        **{k: {"path": path, "sha256": ref.digest()} for k, (path, ref) in fastas.items() if path},
        **{k: {"path": v, "sha256": sha256_file(v)} for k, v in annotations.items() if v},
        "targets": {t.name: {"plus": t.plus.digest(), "minus": t.minus.digest()} for t in targets or []},
        "filters": {"tags": list(spec.tags), "valid_tags": list(spec.valid_tags), "gene_types": list(spec.gene_types)},
        "split": {"valid_chrom": spec.valid_chrom, "valid_genes": list(spec.valid_genes),
                  **{f"{name}_genes": list(g.genes.gene_name) for name, g in gene_sets.items()},
                  **{f"{name}_bases": len(values) for name, values in labels.items()}},
    }
