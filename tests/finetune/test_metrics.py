"""Metrics against values worked out by hand."""

from __future__ import annotations

import numpy as np

from pipeline.finetune.labels import ACCEPTOR, DONOR, NEITHER
from pipeline.finetune.metrics import average_precision, pearson, site_metrics, topk_accuracy


def test_topk_accuracy_counts_positives_among_the_k_best():
    scores = np.array([0.9, 0.1, 0.8, 0.2])
    assert topk_accuracy(scores, np.array([True, False, False, True])) == 0.5  # top 2: 0.9 (yes), 0.8 (no)
    assert topk_accuracy(scores, np.array([True, False, True, False])) == 1.0
    assert np.isnan(topk_accuracy(scores, np.zeros(4, bool)))


def test_average_precision_by_hand():
    # ranking: pos, neg, pos -> precision at the positives 1 and 2/3
    assert np.isclose(average_precision(np.array([0.9, 0.5, 0.1]), np.array([True, False, True])), (1 + 2 / 3) / 2)
    assert average_precision(np.array([0.2, 0.9]), np.array([False, True])) == 1.0


def test_pearson_ignores_unknown_targets():
    target = np.array([0.0, 1.0, np.nan, 2.0])
    assert np.isclose(pearson(np.array([1.0, 3.0, -100.0, 5.0]), target), 1.0)


def test_site_metrics_right_class_compares_donor_and_acceptor():
    labels = np.array([NEITHER, DONOR, ACCEPTOR, NEITHER])
    probs = np.array([[0.9, 0.05, 0.05], [0.3, 0.6, 0.1], [0.5, 0.3, 0.2], [0.8, 0.1, 0.1]])
    metrics = site_metrics(probs, labels)
    assert metrics["right_class"] == 0.5  # the acceptor scores higher as donor
    assert metrics["argmax_right"] == 0.5  # and its argmax is 'neither'
    assert metrics["donor_topk"] == 1.0 and metrics["acceptor_topk"] == 1.0  # still the best-ranked of its class
