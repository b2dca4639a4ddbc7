"""The Pangolin network, with the official module names so official state dicts load unchanged."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import ModelConfig


class ResBlock(nn.Module):
    """BN -> ReLU -> dilated conv -> BN -> ReLU -> dilated conv, plus the input."""

    def __init__(self, hidden: int, kernel: int, dilation: int, eps: float, momentum: float):
        super().__init__()
        pad = dilation * (kernel - 1) // 2  # 'same' padding, as the official code
        self.bn1 = nn.BatchNorm1d(hidden, eps=eps, momentum=momentum)
        self.conv1 = nn.Conv1d(hidden, hidden, kernel, dilation=dilation, padding=pad)
        self.bn2 = nn.BatchNorm1d(hidden, eps=eps, momentum=momentum)
        self.conv2 = nn.Conv1d(hidden, hidden, kernel, dilation=dilation, padding=pad)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv1(torch.relu(self.bn1(x)))
        out = self.conv2(torch.relu(self.bn2(out)))
        return out + x


class Pangolin(nn.Module):
    """One Pangolin network: (batch, 4, L) one-hot -> (batch, 12, L - context) scores.

    ``trunk`` returns the cropped skip representation (batch, hidden, L - context) that the heads
    and the fine-tuning head read.
    """

    def __init__(self, config: ModelConfig | None = None):
        super().__init__()
        self.config = config = config or ModelConfig()
        h = config.hidden
        self.conv1 = nn.Conv1d(4, h, 1)
        self.skip = nn.Conv1d(h, h, 1)
        self.resblocks = nn.ModuleList()
        self.convs = nn.ModuleList()
        specs = config.block_specs
        for n, (kernel, dilation) in enumerate(specs, start=1):
            self.resblocks.append(ResBlock(h, kernel, dilation, config.bn_eps, config.bn_momentum))
            if n % config.dense_every == 0 or n == len(specs):
                self.convs.append(nn.Conv1d(h, h, 1))
        # conv_last1..8: per tissue a 2-channel softmax head then a 1-channel sigmoid head.
        for n in range(2 * len(config.tissues)):
            setattr(self, f"conv_last{n + 1}", nn.Conv1d(h, 2 if n % 2 == 0 else 1, 1))

    def heads(self) -> list[nn.Conv1d]:
        return [getattr(self, f"conv_last{n + 1}") for n in range(2 * len(self.config.tissues))]

    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        conv = self.conv1(x)
        skip = self.skip(conv)
        dense = iter(self.convs)
        n_blocks = len(self.resblocks)
        for n, block in enumerate(self.resblocks, start=1):
            conv = block(conv)
            if n % self.config.dense_every == 0 or n == n_blocks:
                skip = skip + next(dense)(conv)
        flank = self.config.flank
        return skip[..., flank : skip.shape[-1] - flank]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return apply_heads(self.heads(), self.trunk(x))


def apply_heads(heads: list[nn.Conv1d], skip: torch.Tensor) -> torch.Tensor:
    """Softmax / sigmoid heads over the skip representation, concatenated into the 12 channels."""
    outs = []
    for n, head in enumerate(heads):
        logits = head(skip)
        outs.append(F.softmax(logits, dim=1) if n % 2 == 0 else torch.sigmoid(logits))
    return torch.cat(outs, dim=1)
