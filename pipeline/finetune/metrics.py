"""Validation metrics: top-k accuracy and AUPRC for splice sites, Pearson r for usage (numpy only)."""

from __future__ import annotations

import numpy as np

from .labels import ACCEPTOR, DONOR


def topk_accuracy(scores: np.ndarray, positive: np.ndarray) -> float:
    """Fraction of the k highest-scoring bases that are positive, k = number of positives (SpliceAI's metric)."""
    k = int(positive.sum())
    if k == 0:
        return float("nan")
    top = np.argpartition(-scores, k - 1)[:k]
    return float(positive[top].mean())


def average_precision(scores: np.ndarray, positive: np.ndarray) -> float:
    """Area under the precision-recall curve (average precision over the positives' ranks)."""
    n_pos = int(positive.sum())
    if n_pos == 0:
        return float("nan")
    order = np.argsort(-scores, kind="stable")
    hits = positive[order].astype(np.float64)
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float((precision * hits).sum() / n_pos)


def pearson(predicted: np.ndarray, target: np.ndarray) -> float:
    """Pearson correlation over the bases where the target is known (not NaN)."""
    known = ~np.isnan(target)
    p, t = predicted[known].astype(np.float64), target[known].astype(np.float64)
    if len(t) < 2 or p.std() == 0 or t.std() == 0:
        return float("nan")
    return float(np.corrcoef(p, t)[0, 1])


def site_metrics(probabilities: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Metrics of a sites head: probabilities (bases, 3) over (neither, donor, acceptor), labels (bases,).

    ``right_class``: of the annotated sites, the fraction whose own class beats the other site class.
    """
    metrics: dict[str, float] = {}
    for name, kind in (("donor", DONOR), ("acceptor", ACCEPTOR)):
        positive = labels == kind
        metrics[f"{name}_topk"] = topk_accuracy(probabilities[:, kind], positive)
        metrics[f"{name}_auprc"] = average_precision(probabilities[:, kind], positive)
    sites = labels > 0
    other = np.where(labels[sites] == DONOR, ACCEPTOR, DONOR)
    own = probabilities[sites, labels[sites]]
    metrics["right_class"] = float((own > probabilities[sites, other]).mean()) if sites.any() else float("nan")
    metrics["argmax_right"] = float((probabilities[sites].argmax(1) == labels[sites]).mean()) if sites.any() \
        else float("nan")
    metrics["sites"] = int(sites.sum())
    return metrics


def base_site_metrics(p_splice: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """The base model's P(splice) (bases,) against all annotated sites, donors and acceptors together."""
    sites = labels > 0
    return {"p_splice_topk": topk_accuracy(p_splice, sites), "p_splice_auprc": average_precision(p_splice, sites)}


def usage_metrics(predicted: np.ndarray, targets: np.ndarray, names: list[str]) -> dict[str, float]:
    """Pearson r per target: predicted and targets (bases, targets)."""
    return {f"{name}_pearson": pearson(predicted[:, k], targets[:, k]) for k, name in enumerate(names)}
