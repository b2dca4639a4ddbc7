"""Fine-tuning heads on the ensemble's hidden representation, their backbones and their checkpoints.

The hidden representation of a window is every network's cropped skip representation
(hidden x (L - context) each), concatenated: (batch, networks x hidden, L - context).

- Frozen backbone (default): the loaded ensemble's runners (fast engine) compute it without
  gradients, so it can be computed once and cached (pipeline/finetune/features.py).
- Trainable backbone: the fast engine's folded parameters are frozen copies, so backbone training
  runs the reference networks (`Pangolin` modules loaded from the same verified checkpoints);
  BatchNorm keeps its running statistics (eval mode), as is usual when fine-tuning on few windows.

A `TokenHead` is a per-nucleotide MLP (1x1 convolutions) on that representation: ``sites``
(3-class softmax: neither, donor, acceptor) or ``usage`` (one sigmoid per target). A sites head may
start from the base model's P(splice) (its *prior*): the logits are (log(1 - p), log p, log p) plus
the MLP's output, so the MLP learns which class a site is and corrections to where sites are,
instead of relearning splice-site detection from the few sites of a fine-tuning set.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import HeadError
from ..genome.encode import reverse_complement_onehot
from .checkpoints import load_network, verify_checkpoint
from .cost import split_windows
from .engine import FastNetwork, build_runner
from .ensemble import Ensemble
from .network import Pangolin, apply_heads

TASKS = ("sites", "usage")
SITE_CLASSES = ("neither", "donor", "acceptor")
HEAD_FORMAT = 1


@torch.no_grad()  # the ensemble's runners are frozen: no graph, whatever requires_grad says
def hidden_representation(ensemble: Ensemble, x: torch.Tensor) -> torch.Tensor:
    """(batch, 4, L) one-hot -> (batch, networks x hidden, L - context) features, float32."""
    features = []
    for runner in ensemble.runners:
        trunk = runner.trunk if isinstance(runner, FastNetwork) else runner.net.trunk
        inp = x if isinstance(runner, FastNetwork) else x.to(runner.compute_dtype)
        features.append(trunk(inp).float())
    return torch.cat(features, dim=1)


def windowed_features(ensemble: Ensemble, onehot: np.ndarray) -> Iterator[tuple[int, int, torch.Tensor]]:
    """The hidden representation of a (L, 4) one-hot in the ensemble's windows (equal widths: no short
    last window paying the full context): ``(lo, hi, features (1, channels, hi - lo))`` for outputs [lo, hi)."""
    n_out = onehot.shape[0] - ensemble.context
    if n_out <= 0:
        return
    width = split_windows(n_out, ensemble.window)[1]
    for lo in range(0, n_out, width):
        hi = min(lo + width, n_out)
        x = torch.from_numpy(np.ascontiguousarray(onehot[lo : hi + ensemble.context])).T[None]
        yield lo, hi, hidden_representation(ensemble, x.to(ensemble.device))


@torch.no_grad()
def ensemble_scores(ensemble: Ensemble, features: torch.Tensor) -> torch.Tensor:
    """The ensemble's 12 output channels from its hidden representation (what `Ensemble.forward` gives)."""
    hidden = ensemble.config.hidden
    shape = (features.shape[0], ensemble.config.n_channels, features.shape[-1])
    total = torch.zeros(shape, dtype=torch.float32, device=features.device)
    counts = torch.zeros(ensemble.config.n_channels, dtype=torch.float32, device=features.device)
    for n, (member, runner) in enumerate(zip(ensemble.members, ensemble.runners)):
        heads = runner.head_list if isinstance(runner, FastNetwork) else runner.net.heads()
        index = list(member.channels)
        total[:, index] += apply_heads(heads, features[:, n * hidden : (n + 1) * hidden])[:, index]
        counts[index] += 1
    return total / counts[None, :, None]


class TrainableBackbone(nn.Module):
    """Reference networks whose trunks are fine-tuned; ``forward`` gives the hidden representation."""

    def __init__(self, networks: list[Pangolin]):
        super().__init__()
        self.networks = nn.ModuleList(networks)
        for net in self.networks:
            for name, module in net.named_children():
                if name.startswith("conv_last"):  # Pangolin's own heads are not part of the representation
                    module.requires_grad_(False)

    def train(self, mode: bool = True) -> TrainableBackbone:
        super().train(mode)
        for module in self.modules():  # frozen running statistics: batches of a few windows are too small
            if isinstance(module, nn.BatchNorm1d):
                module.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([net.trunk(x) for net in self.networks], dim=1)

    def as_ensemble(self, ensemble: Ensemble) -> Ensemble:
        """A copy of ``ensemble`` whose runners are these (fine-tuned) networks, on its engine and dtype."""
        dtype = ensemble.runners[0].compute_dtype
        runners = [build_runner(copy.deepcopy(net).eval(), ensemble.engine, dtype).to(ensemble.device).eval()
                   for net in self.networks]
        return dataclasses.replace(ensemble, runners=runners)


def trainable_backbone(ensemble: Ensemble, weights: Path) -> TrainableBackbone:
    """The ensemble's networks as trainable reference modules, loaded from its verified checkpoints."""
    networks = []
    for member in ensemble.members:
        if verify_checkpoint(weights, member.name) != ensemble.checksums.get(member.name):
            raise HeadError(f"checkpoint {member.name} in {weights} is not the one the ensemble was loaded from")
        networks.append(load_network(weights, member.name, ensemble.config))
    return TrainableBackbone(networks)


class TokenHead(nn.Module):
    """Per-nucleotide head: features (batch, channels, L) -> logits (batch, outputs, L).

    Parameters
    ----------
    in_channels
        Channels of the hidden representation (networks x hidden).
    outputs
        Names of the outputs: `SITE_CLASSES` for ``sites``, the target names for ``usage``.
    task
        ``"sites"`` (class-weighted cross-entropy over `SITE_CLASSES`; labels int64 (batch, L),
        -100 ignored) or ``"usage"`` (binary cross-entropy per target; labels float in [0, 1]
        (batch, outputs, L), NaN masked from the loss).
    """

    def __init__(self, in_channels: int, outputs: tuple[str, ...], task: str = "sites", width: int = 64,
                 prior_networks: int = 0):
        super().__init__()
        if task not in TASKS:
            raise HeadError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
        if task == "sites" and tuple(outputs) != SITE_CLASSES:
            raise HeadError(f"a sites head predicts {SITE_CLASSES}, got {outputs}")
        self.task, self.outputs, self.width = task, tuple(outputs), width
        self.net = nn.Sequential(nn.Conv1d(in_channels, width, 1), nn.ReLU(), nn.Conv1d(width, len(outputs), 1))
        self.register_buffer("class_weights", torch.ones(len(outputs)))
        # features are raw skip activations (|x| up to ~100); standardised with training-set statistics
        self.register_buffer("feature_mean", torch.zeros(in_channels))
        self.register_buffer("feature_std", torch.ones(in_channels))
        self.prior_networks = prior_networks
        if prior_networks:  # each network's P(splice) head (filled by `set_prior`) and whether it counts
            if task != "sites" or in_channels % prior_networks:
                raise HeadError("a P(splice) prior is for sites heads over whole networks' features")
            self.register_buffer("prior_weight", torch.zeros(prior_networks, 2, in_channels // prior_networks))
            self.register_buffer("prior_bias", torch.zeros(prior_networks, 2))
            self.register_buffer("prior_mask", torch.zeros(prior_networks))

    def set_standardisation(self, features: np.ndarray, chunk: int = 65_536) -> TokenHead:
        """Standardise inputs with the mean and standard deviation of ``features`` (bases, channels)."""
        total, squares = np.zeros(features.shape[1]), np.zeros(features.shape[1])
        for lo in range(0, len(features), chunk):
            block = np.asarray(features[lo : lo + chunk], dtype=np.float64)
            total, squares = total + block.sum(0), squares + (block**2).sum(0)
        mean = total / len(features)
        std = np.sqrt(np.maximum(squares / len(features) - mean**2, 0)) + 1e-3
        self.feature_mean.copy_(torch.from_numpy(mean))
        self.feature_std.copy_(torch.from_numpy(std))
        return self

    def set_prior(self, ensemble: Ensemble) -> TokenHead:
        """Copy the ensemble's P(splice) heads: the prior is its P(splice), averaged over tissues."""
        for n, (member, runner) in enumerate(zip(ensemble.members, ensemble.runners)):
            heads = runner.head_list if isinstance(runner, FastNetwork) else runner.net.heads()
            p_splice = [c for c in member.channels if c % 3 == 1]  # per tissue: no_splice, p_splice, usage
            if p_splice:
                head = heads[2 * (p_splice[0] // 3)]  # the tissue's softmax pair
                self.prior_weight[n] = head.weight.detach()[:, :, 0].float()
                self.prior_bias[n] = head.bias.detach().float()
                self.prior_mask[n] = 1.0
        return self

    def base_p_splice(self, features: torch.Tensor) -> torch.Tensor:
        """The prior: (batch, L) P(splice) of the base ensemble, mean over tissues, from its features."""
        b, _, length = features.shape
        f = features.view(b, self.prior_networks, -1, length)
        logits = torch.einsum("nkh,bnhl->bnkl", self.prior_weight, f) + self.prior_bias[None, :, :, None]
        p = torch.sigmoid(logits[:, :, 1] - logits[:, :, 0])  # the softmax pair's second probability
        return (p * self.prior_mask[None, :, None]).sum(1) / self.prior_mask.sum()

    @property
    def in_channels(self) -> int:
        return self.net[0].in_channels

    def forward(self, features: torch.Tensor, labels: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        logits = self.net((features - self.feature_mean[:, None]) / self.feature_std[:, None])
        if self.prior_networks:
            p = self.base_p_splice(features).clamp(1e-6, 1 - 1e-6)[:, None]
            logits = logits + torch.cat([torch.log1p(-p), torch.log(p), torch.log(p)], dim=1)
        out = {"logits": logits}
        if labels is not None:
            out["loss"] = self.loss(logits, labels)
        return out

    def loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if self.task == "sites":
            return F.cross_entropy(logits, labels, weight=self.class_weights, ignore_index=-100)
        known = ~torch.isnan(labels)
        return F.binary_cross_entropy_with_logits(logits[known], labels[known])

    def probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        """Softmax over the classes (sites) or one sigmoid per target (usage)."""
        return torch.softmax(logits, dim=1) if self.task == "sites" else torch.sigmoid(logits)

    @property
    def columns(self) -> list[str]:
        return head_columns(self.task, self.outputs)

    def predict(self, features: torch.Tensor) -> torch.Tensor:
        """Features (batch, channels, L) -> the `columns` (batch, len(columns), L)."""
        probs = self.probabilities(self(features)["logits"])
        return probs[:, 1:] if self.task == "sites" else probs


def save_head(path: str | Path, head: TokenHead, ensemble: Ensemble, record: dict,
              backbone: TrainableBackbone | None = None) -> Path:
    """Write a head checkpoint: weights, the base ensemble's identity and ``record`` (what it was trained on)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({
        "format": HEAD_FORMAT, "task": head.task, "outputs": list(head.outputs), "width": head.width,
        "in_channels": head.in_channels, "prior_networks": head.prior_networks, "state": head.state_dict(),
        "base": {"ensemble": ensemble.name, "checkpoints": dict(ensemble.checksums)},
        "backbone": [net.state_dict() for net in backbone.networks] if backbone is not None else None,
        "record": record,
    }, path)
    return path


class FinetunedHead:
    """A loaded head checkpoint bound to the ensemble it was trained on; scores one-hot sequences."""

    def __init__(self, head: TokenHead, ensemble: Ensemble, record: dict):
        self.head, self.ensemble, self.record = head.eval(), ensemble, record

    @property
    def columns(self) -> list[str]:
        return self.head.columns

    def score_onehot(self, onehot: np.ndarray, strand: str = "+") -> np.ndarray:
        """(L, 4) one-hot in genome order -> (L - context, len(columns)) float32, genome order."""
        return score_heads([self], onehot, strand)[0]


@torch.inference_mode()
def score_heads(heads: list[FinetunedHead], onehot: np.ndarray, strand: str = "+") -> list[np.ndarray]:
    """`FinetunedHead.score_onehot` of each head; heads on the same backbone (frozen heads of one
    ensemble) share its trunk pass, so k such heads cost one pass, not k."""
    if not heads:
        return []
    if strand == "-":
        onehot = reverse_complement_onehot(onehot)
    by_backbone: dict[int, list[int]] = {}
    for k, head in enumerate(heads):
        by_backbone.setdefault(id(head.ensemble), []).append(k)
    outs: list[np.ndarray] = [np.empty(0)] * len(heads)
    for group in by_backbone.values():
        ensemble = heads[group[0]].ensemble
        n_out = onehot.shape[0] - ensemble.context
        for k in group:
            outs[k] = np.empty((n_out, len(heads[k].columns)), dtype=np.float32)
        for lo, hi, features in windowed_features(ensemble, onehot):
            for k in group:
                outs[k][lo:hi] = heads[k].head.predict(features)[0].T.cpu().numpy()
    return [out[::-1].copy() if strand == "-" else out for out in outs]


def head_columns(task: str, outputs: tuple[str, ...] | list[str]) -> list[str]:
    """Output column names: ``p_donor``, ``p_acceptor`` for sites, the target names for usage."""
    return [f"p_{c}" for c in SITE_CLASSES[1:]] if task == "sites" else list(outputs)


def read_head(path: str | Path) -> dict:
    """The contents of a head checkpoint (`save_head`), without loading it onto an ensemble.

    Raises
    ------
    HeadError
        If the file is missing or not a head checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise HeadError(f"head checkpoint {path} does not exist")
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # a corrupt or foreign pickle can raise almost anything
        raise HeadError(f"{path} is not a head checkpoint (torch.load cannot read it: {type(err).__name__})") from None
    if not isinstance(saved, dict) or saved.get("format") != HEAD_FORMAT:
        raise HeadError(f"{path} is not a head checkpoint of format {HEAD_FORMAT}")
    return saved


def load_head(path: str | Path, ensemble: Ensemble) -> FinetunedHead:
    """Load a head checkpoint onto ``ensemble``.

    Raises
    ------
    HeadError
        If the file is missing or not a head checkpoint, or ``ensemble`` is not the base it was
        trained on (another ensemble name or any checkpoint with another SHA-256).
    """
    saved = read_head(path)
    check_base(saved["base"], ensemble.name, ensemble.checksums, path)
    if saved["backbone"] is not None:  # a fine-tuned trunk: run it on the ensemble's own engine
        networks = []
        for state in saved["backbone"]:
            net = Pangolin(ensemble.config)
            net.load_state_dict(state)
            networks.append(net.eval())
        ensemble = TrainableBackbone(networks).as_ensemble(ensemble)
    head = TokenHead(saved["in_channels"], tuple(saved["outputs"]), saved["task"], saved["width"],
                     saved["prior_networks"])
    head.load_state_dict(saved["state"])
    return FinetunedHead(head.to(ensemble.device), ensemble, saved["record"])


def check_base(base: dict, ensemble: str, checksums: dict[str, str], path: Path | str) -> None:
    """Refuse an ensemble (name, checkpoint SHA-256s) other than the head's base, naming the difference."""
    if base["ensemble"] != ensemble:
        raise HeadError(f"head {path} was trained on the {base['ensemble']} ensemble, not {ensemble}: "
                        f"load it with --ensemble {base['ensemble']}")
    for name, digest in base["checkpoints"].items():
        if checksums.get(name) != digest:
            raise HeadError(f"head {path} was trained on checkpoint {name} with SHA-256 {digest[:12]}..., "
                            "which this ensemble does not have: use the weights it was trained on")


def postprocess(scores: np.ndarray, channels: list[str]) -> dict[str, np.ndarray]:
    """Scores (n, 12) as named channels, e.g. ``{"heart_p_splice": array(n), ...}``."""
    if scores.shape[-1] != len(channels):
        raise ValueError(f"scores have {scores.shape[-1]} channels, expected {len(channels)}")
    return {name: scores[..., k] for k, name in enumerate(channels)}
