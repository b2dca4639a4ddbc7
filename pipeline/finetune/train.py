"""Training a head on cached features: AdamW, step decay, seed, early stopping on the validation split."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ..errors import ConfigError
from ..model.head import TokenHead
from .metrics import site_metrics, usage_metrics


@dataclass(frozen=True)
class TrainOptions:
    """Hyper-parameters. The learning rate is multiplied by ``gamma`` every ``step_size`` epochs;
    training stops after ``patience`` epochs without a lower validation loss and keeps the best epoch."""

    epochs: int = 30
    lr: float = 1e-3
    weight_decay: float = 1e-2
    batch_size: int = 4096
    step_size: int = 10
    gamma: float = 0.1
    patience: int = 5
    width: int = 64
    seed: int = 0

    def __post_init__(self) -> None:
        for key in ("epochs", "batch_size", "step_size", "patience", "width"):
            if getattr(self, key) < 1:
                raise ConfigError(f"{key} must be a positive integer, got {getattr(self, key)}")
        if not self.lr > 0 or self.weight_decay < 0 or not 0 < self.gamma <= 1:
            raise ConfigError(f"need lr > 0, weight_decay >= 0 and 0 < gamma <= 1; got {self.lr}, "
                              f"{self.weight_decay}, {self.gamma}")


@dataclass
class Split:
    """One split's per-base arrays, in the same base order."""

    features: np.ndarray  # (bases, channels), float16 or float32
    labels: np.ndarray  # sites: (bases,) int64 classes; usage: (bases, targets) float32, NaN unknown
    scores: np.ndarray  # (bases, 12) the base ensemble's outputs


def site_class_weights(labels: np.ndarray, classes: int = 3) -> torch.Tensor:
    """Inverse square root of each class's frequency, mean 1: sites are ~1 in 1,000 bases, and full
    inverse-frequency weights push so many bases to p ~ 1 that the ranking among them degrades."""
    counts = np.bincount(labels[labels >= 0], minlength=classes).astype(np.float64)
    weights = np.sqrt(counts.sum() / np.maximum(counts, 1))
    return torch.tensor(weights / weights.mean(), dtype=torch.float32)


def _device(head: TokenHead) -> torch.device:
    return next(head.parameters()).device


def _batch(split: Split, index: np.ndarray, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Features (batch, channels, 1) float32 and labels shaped for `TokenHead.loss`, on ``device``."""
    index = np.sort(index)  # ascending reads of the (possibly memory-mapped) features
    x = torch.from_numpy(np.asarray(split.features[index], dtype=np.float32))[:, :, None]
    y = torch.from_numpy(np.asarray(split.labels[index]))
    return x.to(device), (y[:, None] if y.dim() == 1 else y[:, :, None]).to(device)


@torch.no_grad()
def predict(head: TokenHead, features: np.ndarray, batch_size: int = 65_536) -> np.ndarray:
    """Probabilities (bases, outputs) of a head over cached features."""
    head.eval()
    out = []
    for lo in range(0, len(features), batch_size):
        x = torch.from_numpy(np.asarray(features[lo : lo + batch_size], dtype=np.float32))[:, :, None]
        out.append(head.probabilities(head(x.to(_device(head)))["logits"])[:, :, 0].cpu().numpy())
    return np.concatenate(out)


@torch.no_grad()
def split_loss(head: TokenHead, split: Split, batch_size: int = 65_536) -> float:
    head.eval()
    total, n = 0.0, 0
    for lo in range(0, len(split.features), batch_size):
        index = np.arange(lo, min(lo + batch_size, len(split.features)))
        x, y = _batch(split, index, _device(head))
        total += float(head(x, y)["loss"]) * len(index)
        n += len(index)
    return total / n


def evaluate(head: TokenHead, split: Split) -> dict[str, float]:
    """Validation metrics of a head (see metrics.py)."""
    probabilities = predict(head, split.features)
    if head.task == "sites":
        return site_metrics(probabilities, split.labels)
    return usage_metrics(probabilities, split.labels, list(head.outputs))


def fit(head: TokenHead, train: Split, valid: Split, options: TrainOptions,
        log: Callable[[dict], None] | None = None) -> list[dict]:
    """Train ``head`` on ``train`` and keep the epoch with the lowest validation loss; return the history."""
    torch.manual_seed(options.seed)
    rng = np.random.default_rng(options.seed)
    optimiser = torch.optim.AdamW(head.parameters(), lr=options.lr, weight_decay=options.weight_decay)
    schedule = torch.optim.lr_scheduler.StepLR(optimiser, step_size=options.step_size, gamma=options.gamma)
    history: list[dict] = []
    best = {"loss": split_loss(head, valid), "state": copy.deepcopy(head.state_dict()), "epoch": 0}
    history.append({"epoch": 0, "train_loss": split_loss(head, train), "valid_loss": best["loss"]})
    for epoch in range(1, options.epochs + 1):
        head.train()
        order = rng.permutation(len(train.features))
        losses = []
        for lo in range(0, len(order), options.batch_size):
            x, y = _batch(train, order[lo : lo + options.batch_size], _device(head))
            loss = head(x, y)["loss"]
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            losses.append(loss.item())
        schedule.step()
        valid_loss = split_loss(head, valid)
        history.append({"epoch": epoch, "train_loss": float(np.mean(losses)), "valid_loss": valid_loss,
                        "lr": optimiser.param_groups[0]["lr"]})
        if log is not None:
            log(history[-1])
        if valid_loss < best["loss"]:
            best = {"loss": valid_loss, "state": copy.deepcopy(head.state_dict()), "epoch": epoch}
        elif epoch - best["epoch"] >= options.patience:
            break
    head.load_state_dict(best["state"])
    return history
