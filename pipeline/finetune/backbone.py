"""Training the head together with the backbone (``--train-backbone``).

Features cannot be cached when the networks change, so each step runs the reference networks
(`TrainableBackbone`) forward and backward over one window of ``window`` bases plus context, and
each epoch's validation features are recomputed through the fine-tuned networks on the ensemble's
own (fast) engine. The backbone learns at a tenth of the head's learning rate. This costs about
three full passes of the 12-network ensemble per training base and epoch: a GPU job, not a laptop one.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch

from ..genome.encode import one_hot, reverse_complement_onehot
from ..genome.fasta import Reference
from ..model.ensemble import Ensemble
from ..model.head import TokenHead, TrainableBackbone, trainable_backbone
from .features import Segment, extract_features
from .train import Split, TrainOptions, split_loss

BACKBONE_LR_SCALE = 0.1
Labeller = Callable[[Segment], np.ndarray]  # genome-order labels of a segment: (bases,) or (targets, bases)


def windows(segments: list[Segment], width: int) -> list[Segment]:
    """The segments cut into pieces of at most ``width`` bases."""
    return [Segment(s.chrom, s.strand, lo, min(lo + width, s.end)) for s in segments
            for lo in range(s.start, s.end, width)]


def _window_batch(reference: Reference, piece: Segment, flank: int, labeller: Labeller,
                  device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """One window's one-hot (1, 4, L) and labels (1, ...) in the order the network reads it."""
    onehot = one_hot(reference.fetch(piece.chrom, piece.start - flank, piece.end + flank))
    labels = labeller(piece)
    if piece.strand == "-":  # the network reads the reverse complement; labels follow its order
        onehot, labels = reverse_complement_onehot(onehot), labels[..., ::-1]
    x = torch.from_numpy(np.ascontiguousarray(onehot)).T[None].to(device)
    return x, torch.from_numpy(np.ascontiguousarray(labels))[None].to(device)


def _shuffled(pieces: list[Segment], rng: np.random.Generator) -> Iterator[Segment]:
    for k in rng.permutation(len(pieces)):
        yield pieces[k]


def fit_backbone(ensemble: Ensemble, weights: Path, head: TokenHead, reference: Reference, train: list[Segment],
                 labeller: Labeller, valid_split: Callable[[Ensemble], Split], options: TrainOptions,
                 window: int = 5_000, log: Callable[[dict], None] | None = None) -> tuple[TrainableBackbone, list]:
    """Train ``head`` and the ensemble's networks; keep the epoch with the lowest validation loss.

    ``valid_split(ensemble)`` returns the validation split with features from ``ensemble``.
    Returns the fine-tuned backbone and the history.
    """
    torch.manual_seed(options.seed)
    rng = np.random.default_rng(options.seed)
    backbone = trainable_backbone(ensemble, weights).to(ensemble.device)
    head = head.to(ensemble.device)
    groups = [{"params": head.parameters(), "lr": options.lr},
              {"params": [p for p in backbone.parameters() if p.requires_grad], "lr": options.lr * BACKBONE_LR_SCALE}]
    optimiser = torch.optim.AdamW(groups, weight_decay=options.weight_decay)
    schedule = torch.optim.lr_scheduler.StepLR(optimiser, step_size=options.step_size, gamma=options.gamma)
    pieces, flank = windows(train, window), ensemble.context // 2
    best = {"loss": split_loss(head, valid_split(ensemble)), "epoch": 0,
            "state": (copy.deepcopy(head.state_dict()), copy.deepcopy(backbone.state_dict()))}
    history = [{"epoch": 0, "valid_loss": best["loss"]}]
    for epoch in range(1, options.epochs + 1):
        backbone.train()
        head.train()
        losses = []
        for piece in _shuffled(pieces, rng):
            x, y = _window_batch(reference, piece, flank, labeller, ensemble.device)
            loss = head(backbone(x), y)["loss"]
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            losses.append(loss.item())
        schedule.step()
        backbone.eval()
        valid_loss = split_loss(head, valid_split(backbone.as_ensemble(ensemble)))
        history.append({"epoch": epoch, "train_loss": float(np.mean(losses)), "valid_loss": valid_loss,
                        "lr": optimiser.param_groups[0]["lr"]})
        if log is not None:
            log(history[-1])
        if valid_loss < best["loss"]:
            best = {"loss": valid_loss, "epoch": epoch,
                    "state": (copy.deepcopy(head.state_dict()), copy.deepcopy(backbone.state_dict()))}
        elif epoch - best["epoch"] >= options.patience:
            break
    head.load_state_dict(best["state"][0])
    backbone.load_state_dict(best["state"][1])
    return backbone.eval(), history


def features_split(reference: Reference, segments: list[Segment], labels: np.ndarray) -> Callable[[Ensemble], Split]:
    """``valid_split`` for `fit_backbone`: features of ``segments`` from a given ensemble, uncached."""
    def build(ensemble: Ensemble) -> Split:
        features = extract_features(ensemble, reference, segments, cache_dir=None, dtype="float32")
        return Split(features.features, labels, features.scores)

    return build
