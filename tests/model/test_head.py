"""Fine-tuning heads: training steps lower the loss, the head's features reproduce the ensemble, and
backbone training reaches the reference network's weights; channels are named."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import pipeline.model.head as heads
from pipeline.model.checkpoints import load_network
from pipeline.model.head import SITE_CLASSES, TokenHead, TrainableBackbone, ensemble_scores, hidden_representation


def _random_onehot(length: int, batch: int = 2) -> torch.Tensor:
    x = torch.zeros(batch, 4, length)
    x[:, torch.randint(0, 4, (length,)), torch.arange(length)] = 1
    return x


def test_training_step_lowers_loss(get_ensemble):
    torch.manual_seed(0)
    ens = get_ensemble()
    features = hidden_representation(ens, _random_onehot(10_064))
    usage = torch.rand(2, 1, 64)
    usage[:, :, :8] = float("nan")  # unknown targets are masked from the loss
    for task, outputs, labels in (("usage", ("heart",), usage), ("sites", SITE_CLASSES, torch.randint(0, 3, (2, 64)))):
        head = TokenHead(features.shape[1], outputs, task=task)
        head.set_standardisation(features[0].T.numpy())  # raw skip activations reach |x| ~ 100
        optimiser = torch.optim.AdamW(head.parameters(), lr=1e-3)
        losses = []
        for _ in range(8):
            out = head(features, labels)
            optimiser.zero_grad()
            out["loss"].backward()
            optimiser.step()
            losses.append(out["loss"].item())
        assert np.isfinite(losses).all() and losses[-1] < losses[0], (task, losses)
    assert not any(p.grad is not None for r in ens.runners for p in r.parameters())  # backbone untouched


def test_hidden_representation_reproduces_the_ensemble(get_ensemble):
    ens = get_ensemble()
    x = _random_onehot(10_100, batch=1)
    np.testing.assert_allclose(ensemble_scores(ens, hidden_representation(ens, x)), ens.forward(x), atol=1e-6)


def test_prior_head_starts_from_the_base_p_splice(get_ensemble):
    ens = get_ensemble()
    x = _random_onehot(10_050, batch=1)
    features = hidden_representation(ens, x)
    head = TokenHead(features.shape[1], SITE_CLASSES, "sites", prior_networks=len(ens.runners)).set_prior(ens)
    torch.nn.init.zeros_(head.net[2].weight)
    torch.nn.init.zeros_(head.net[2].bias)
    with torch.no_grad():
        probs = head.probabilities(head(features)["logits"])[0]
    base = ensemble_scores(ens, features)[0, [k for k, c in enumerate(ens.channels) if c.endswith("_p_splice")]]
    # logits (log(1 - p), log p, log p): donor / (neither + donor) = p, donor = acceptor
    np.testing.assert_allclose(probs[1] / (probs[0] + probs[1]), base.mean(0), rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(probs[1], probs[2])


@pytest.mark.slow
def test_backbone_training_updates_the_reference_network(weights_dir):
    torch.manual_seed(0)
    net = load_network(weights_dir, "final.1.0.3.v2")
    backbone = TrainableBackbone([net]).train()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    head = TokenHead(net.config.hidden, SITE_CLASSES, "sites")
    optimiser = torch.optim.AdamW([*backbone.parameters(), *head.parameters()], lr=1e-3)
    x, labels = _random_onehot(10_032, batch=1), torch.randint(0, 3, (1, 32))
    losses = []
    for _ in range(3):
        out = head(backbone(x), labels)
        optimiser.zero_grad()
        out["loss"].backward()
        optimiser.step()
        losses.append(out["loss"].item())
    after = net.state_dict()
    assert losses[-1] < losses[0]
    assert not torch.equal(before["resblocks.0.conv1.weight"], after["resblocks.0.conv1.weight"])  # the trunk trains
    assert torch.equal(before["resblocks.0.bn1.running_mean"], after["resblocks.0.bn1.running_mean"])  # stats frozen
    assert torch.equal(before["conv_last1.weight"], after["conv_last1.weight"])  # Pangolin's own heads are unused


def test_postprocess_names_channels(get_ensemble):
    ens = get_ensemble()
    scores = np.arange(24, dtype=np.float32).reshape(2, 12)
    named = heads.postprocess(scores, ens.channels)
    assert list(named)[:2] == ["heart_no_splice", "heart_p_splice"]
    np.testing.assert_array_equal(named["testis_usage"], [11, 23])


def test_heads_on_one_backbone_share_its_trunk_pass(get_ensemble, monkeypatch):
    ens = get_ensemble()
    torch.manual_seed(1)
    in_channels = ens.config.hidden * len(ens.runners)
    pair = [heads.FinetunedHead(TokenHead(in_channels, SITE_CLASSES), ens, {}),
            heads.FinetunedHead(TokenHead(in_channels, ("heart",), task="usage"), ens, {})]
    onehot = _random_onehot(10_300, batch=1)[0].T.numpy()
    alone = [head.score_onehot(onehot, "-") for head in pair]
    passes = []
    trunk = heads.hidden_representation
    monkeypatch.setattr(heads, "hidden_representation", lambda *a: passes.append(1) or trunk(*a))
    together = heads.score_heads(pair, onehot, "-")
    assert len(passes) == 1  # one window, one trunk pass for both heads
    for a, b in zip(alone, together, strict=True):
        assert a.shape == b.shape and np.array_equal(a, b)
