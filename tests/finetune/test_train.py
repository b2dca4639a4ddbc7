"""Fine-tuning on cached features of three short real genes: features reproduce the ensemble, the cache
returns what was computed, training lowers the loss, a saved head reloads to identical outputs and
refuses another base ensemble."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from pipeline.errors import HeadError
from pipeline.finetune.backbone import features_split, fit_backbone
from pipeline.finetune.driver import labeller, split_genes, split_labels
from pipeline.finetune.features import Segment, extract_features, gene_segments
from pipeline.finetune.train import Split, TrainOptions, evaluate, fit, predict, site_class_weights, split_loss
from pipeline.genome.encode import one_hot
from pipeline.model.checkpoints import load_network
from pipeline.model.head import SITE_CLASSES, TokenHead, load_head, save_head, trainable_backbone

from ..conftest import DATA, REPO

CHR22 = DATA / "grch38-chr22" / "chr22.fa.gz"
GENES = REPO / "tests" / "data" / "finetune_genes.gtf"


pytestmark = pytest.mark.slow  # backbone features of 6 kb (with context 36 kb): ~15 s on 2 free cores


@pytest.fixture(scope="module")
def prepared(get_ensemble, feature_cache):
    """Training (two genes) and validation (one gene) splits; backbone features computed once."""
    from pipeline.finetune.driver import FinetuneSpec

    cache = feature_cache
    spec = FinetuneSpec(str(CHR22), str(GENES), "unused.pt", valid_genes=("C22orf42_4_8",), cache_dir=str(cache))
    ens = get_ensemble()
    splits = {}
    for name, gene_set in zip(("training", "validation"), split_genes(spec)):
        segments = gene_segments(gene_set.genes, gene_set.reference.lengths)
        features = extract_features(ens, gene_set.reference, segments, cache)
        labels = split_labels(gene_set.genes, segments, "sites", None, name)
        splits[name] = (gene_set, features, Split(features.features, labels, features.scores))
    return ens, cache, splits


def test_features_reproduce_the_ensemble_scores_on_both_strands(prepared):
    ens, _, splits = prepared
    gene_set, features, _ = splits["training"]
    assert {s.strand for s in features.segments} == {"+", "-"}
    for segment, lo in zip(features.segments, features.offsets):  # the last 100 bases of each segment
        seq = gene_set.reference.fetch(segment.chrom, segment.end - 5100, segment.end + 5000)
        expected = ens.score_sequence(seq, segment.strand)
        np.testing.assert_allclose(features.scores[lo + segment.size - 100 : lo + segment.size], expected, atol=1e-6)


def test_cache_returns_the_computed_features(prepared):
    ens, cache, splits = prepared
    gene_set, features, _ = splits["validation"]
    again = extract_features(ens, gene_set.reference, features.segments, cache)
    assert sum(1 for _ in cache.iterdir()) >= 3  # one entry per segment
    np.testing.assert_array_equal(again.features, features.features)
    np.testing.assert_array_equal(again.scores, features.scores)


def _trained(prepared, epochs: int = 6) -> tuple[TokenHead, list[dict]]:
    _, _, splits = prepared
    train, valid = splits["training"][2], splits["validation"][2]
    head = TokenHead(train.features.shape[1], SITE_CLASSES, "sites", width=16)
    head.class_weights.copy_(site_class_weights(train.labels))
    history = fit(head, train, valid, TrainOptions(epochs=epochs, batch_size=512, step_size=4, patience=epochs))
    return head, history


def test_training_lowers_the_loss_and_keeps_the_best_epoch(prepared):
    _, _, splits = prepared
    head, history = _trained(prepared)
    assert history[-1]["train_loss"] < history[1]["train_loss"] < history[0]["train_loss"]
    best = min(history, key=lambda h: h["valid_loss"])
    assert best["epoch"] > 0
    assert np.isclose(split_loss(head, splits["validation"][2]), best["valid_loss"], rtol=1e-5)  # best epoch kept
    assert history[5]["lr"] == pytest.approx(1e-4)  # step decay after 4 epochs
    metrics = evaluate(head, splits["validation"][2])
    assert metrics["sites"] == 8 and 0 <= metrics["donor_topk"] <= 1


def test_saved_head_reloads_to_identical_outputs_and_refuses_another_base(prepared, tmp_path):
    ens, _, splits = prepared
    head, _ = _trained(prepared, epochs=2)
    path = save_head(tmp_path / "h.pt", head, ens, {"note": "test"})
    loaded = load_head(path, ens)
    gene_set, features, _ = splits["validation"]
    np.testing.assert_array_equal(predict(loaded.head, features.features), predict(head, features.features))
    # from sequence: the same probabilities as from the cached (float16) features, up to that rounding
    segment = features.segments[0]
    seq = gene_set.reference.fetch(segment.chrom, segment.start - 5000, segment.end + 5000)
    from_sequence = loaded.score_onehot(one_hot(seq), segment.strand)
    assert loaded.columns == ["p_donor", "p_acceptor"]
    np.testing.assert_allclose(from_sequence, predict(head, features.features)[: segment.size, 1:], atol=2e-3)
    assert loaded.record == {"note": "test"}
    with pytest.raises(HeadError, match="trained on the official ensemble"):
        load_head(path, dataclasses.replace(ens, name="specialised"))
    other = dict(ens.checksums, **{"final.1.0.3.v2": "0" * 64})
    with pytest.raises(HeadError, match="final.1.0.3.v2"):
        load_head(path, dataclasses.replace(ens, checksums=other))


def test_head_with_a_trained_backbone_runs_its_own_networks(prepared, weights_dir, tmp_path):
    ens, _, splits = prepared
    head, _ = _trained(prepared, epochs=1)
    backbone = trainable_backbone(ens, weights_dir)
    with torch.no_grad():  # a visible change to one network's trunk
        backbone.networks[0].conv1.bias.add_(1.0)
    path = save_head(tmp_path / "hb.pt", head, ens, {}, backbone)
    gene_set, features, _ = splits["validation"]
    segment = features.segments[0]
    seq = gene_set.reference.fetch(segment.chrom, segment.start - 5000, segment.end + 5000)
    tuned = load_head(path, ens).score_onehot(one_hot(seq), segment.strand)
    frozen = predict(head, features.features)[: segment.size, 1:]
    assert np.abs(tuned - frozen).max() > 1e-2


def test_backbone_training_on_windows_updates_the_networks(prepared, weights_dir):
    ens, _, splits = prepared
    one = dataclasses.replace(ens, members=ens.members[:1], runners=ens.runners[:1])  # one network: cheap
    gene_set = splits["training"][0]
    # two 32-base windows over real sites, one per strand; validated on the same windows (memorisable)
    pieces = [Segment("chr22", "+", 32_067_020, 32_067_052), Segment("chr22", "-", 32_152_610, 32_152_642)]
    label = labeller(gene_set.genes, "sites", None)
    assert all(label(p).any() for p in pieces)
    valid = features_split(gene_set.reference, pieces, np.concatenate([label(p) for p in pieces]))
    head = TokenHead(ens.config.hidden, SITE_CLASSES, "sites", width=8)
    backbone, history = fit_backbone(one, weights_dir, head, gene_set.reference, pieces, label, valid,
                                     TrainOptions(epochs=3, lr=1e-2, patience=3), window=32)
    assert history[-1]["train_loss"] < history[1]["train_loss"] and history[-1]["valid_loss"] < history[0]["valid_loss"]
    original = load_network(weights_dir, ens.members[0].name)
    tuned = backbone.networks[0]
    assert not torch.equal(tuned.resblocks[3].conv2.weight, original.resblocks[3].conv2.weight)
    # the fine-tuned network on the fast engine gives the reference network's features
    x = torch.from_numpy(np.ascontiguousarray(np.eye(4, dtype=np.float32)[np.arange(10_040) % 4].T))[None]
    fast = backbone.as_ensemble(one)
    with torch.no_grad():
        np.testing.assert_allclose(fast.runners[0].trunk(x), tuned.trunk(x), atol=1e-4)
