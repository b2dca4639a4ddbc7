"""Fine-tuning on top of the ensemble: a per-nucleotide head over the networks' hidden representation.

The backbone (the loaded ensemble) stays frozen by default; its cropped skip representations
(hidden x (L - context) per network) are concatenated and a small 1x1-convolution head predicts
per-base targets: regression (mean squared error) or classification (cross-entropy).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .engine import FastNetwork
from .ensemble import Ensemble


def hidden_representation(ensemble: Ensemble, x: torch.Tensor) -> torch.Tensor:
    """(batch, 4, L) one-hot -> (batch, networks x hidden, L - context) features, float32."""
    features = []
    for runner in ensemble.runners:
        trunk = runner.trunk if isinstance(runner, FastNetwork) else runner.net.trunk
        inp = x if isinstance(runner, FastNetwork) else x.to(runner.compute_dtype)
        features.append(trunk(inp).float())
    return torch.cat(features, dim=1)


class TokenHead(nn.Module):
    """Per-nucleotide prediction head; ``forward(x, labels)`` returns logits and, with labels, loss.

    Parameters
    ----------
    ensemble
        A loaded `Ensemble` (its networks are the backbone).
    n_outputs
        Targets per base (regression) or classes (classification).
    task
        ``"regression"`` (labels: float, (batch, n_outputs, L - context)) or ``"classification"``
        (labels: int64 class per base, (batch, L - context); -100 is ignored).
    train_backbone
        Also fine-tune the networks (default: frozen, features computed without gradients).
    """

    def __init__(self, ensemble: Ensemble, n_outputs: int, task: str = "regression", width: int = 64,
                 train_backbone: bool = False):
        super().__init__()
        if task not in ("regression", "classification"):
            raise ValueError(f"task must be 'regression' or 'classification', got {task!r}")
        self.ensemble, self.task, self.train_backbone = ensemble, task, train_backbone
        channels = len(ensemble.runners) * ensemble.config.hidden
        self.head = nn.Sequential(nn.Conv1d(channels, width, 1), nn.ReLU(), nn.Conv1d(width, n_outputs, 1))

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        if self.train_backbone:
            features = hidden_representation(self.ensemble, x)
        else:
            with torch.no_grad():
                features = hidden_representation(self.ensemble, x)
        logits = self.head(features)
        out = {"logits": logits}
        if labels is not None:
            if self.task == "regression":
                out["loss"] = F.mse_loss(logits, labels)
            else:
                out["loss"] = F.cross_entropy(logits, labels, ignore_index=-100)
        return out


def postprocess(scores: np.ndarray, channels: list[str]) -> dict[str, np.ndarray]:
    """Scores (n, 12) as named channels, e.g. ``{"heart_p_splice": array(n), ...}``."""
    if scores.shape[-1] != len(channels):
        raise ValueError(f"scores have {scores.shape[-1]} channels, expected {len(channels)}")
    return {name: scores[..., k] for k, name in enumerate(channels)}
