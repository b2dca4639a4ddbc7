"""Fine-tuning head: a training step on a tiny batch lowers the loss; channels are named."""

from __future__ import annotations

import numpy as np
import torch

from pipeline.model.head import TokenHead, postprocess


def test_training_step_lowers_loss(get_ensemble):
    torch.manual_seed(0)
    ens = get_ensemble()
    x = torch.zeros(2, 4, 10_064)
    x[:, torch.randint(0, 4, (10_064,)), torch.arange(10_064)] = 1
    for task, labels in (("regression", torch.rand(2, 1, 64)), ("classification", torch.randint(0, 3, (2, 64)))):
        head = TokenHead(ens, n_outputs=1 if task == "regression" else 3, task=task)
        optimiser = torch.optim.Adam(head.head.parameters(), lr=1e-3)
        losses = []
        for _ in range(8):
            out = head(x, labels)
            optimiser.zero_grad()
            out["loss"].backward()
            optimiser.step()
            losses.append(out["loss"].item())
        assert losses[-1] < losses[0], (task, losses)
        assert not any(p.grad is not None for r in ens.runners for p in r.parameters())  # backbone frozen


def test_postprocess_names_channels(get_ensemble):
    ens = get_ensemble()
    scores = np.arange(24, dtype=np.float32).reshape(2, 12)
    named = postprocess(scores, ens.channels)
    assert list(named)[:2] == ["heart_no_splice", "heart_p_splice"]
    np.testing.assert_array_equal(named["testis_usage"], [11, 23])
