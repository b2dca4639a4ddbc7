"""Runners that turn one network into a function (batch, 4, L) -> (batch, 12, L - context).

``reference`` runs the official module as it is ('same' padding), in the 5,000-base windows the
official tools use. ``fast`` computes exactly the same function with less work and faster kernels:

- valid (unpadded) convolutions: each layer computes only the positions later layers need;
- the BatchNorm after each block's first convolution is folded into that convolution (exact
  algebra; the BN before it acts on the residual stream and cannot be folded);
- the skip path (1x1 convolutions) is evaluated only at the output positions;
- convolutions run as conv2d over (batch, channels, 1, length) in channels-last layout, which
  oneDNN and cuDNN run markedly faster than conv1d;
- long windows, so the 10,000 bases of context are paid once per window, not once per 5,000.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .network import Pangolin, apply_heads

ENGINES = ("reference", "fast")


def _bn_affine(bn: nn.BatchNorm1d) -> tuple[torch.Tensor, torch.Tensor]:
    """BatchNorm in eval mode as ``x * scale + shift`` (computed in float64 for exact folding)."""
    scale = bn.weight.double() / torch.sqrt(bn.running_var.double() + bn.eps)
    shift = bn.bias.double() - bn.running_mean.double() * scale
    return scale, shift


class FastNetwork(nn.Module):
    """The same function as `Pangolin.forward` with valid convolutions and folded BatchNorm."""

    def __init__(self, net: Pangolin, dtype: torch.dtype = torch.float32):
        super().__init__()
        config = net.config
        self.flank = config.flank
        self.compute_dtype = dtype
        as_2d = lambda w: w.detach().unsqueeze(2)  # (out, in, k) -> (out, in, 1, k)  # noqa: E731

        self.w_in = nn.Parameter(as_2d(net.conv1.weight).to(dtype), requires_grad=False)
        self.b_in = nn.Parameter(net.conv1.bias.detach().to(dtype), requires_grad=False)
        self.blocks: list[dict] = []
        params = nn.ParameterList()
        for block in net.resblocks:
            scale1, shift1 = _bn_affine(block.bn1)
            scale2, shift2 = _bn_affine(block.bn2)
            w1 = block.conv1.weight.double() * scale2[:, None, None]
            b1 = block.conv1.bias.double() * scale2 + shift2
            tensors = {
                "scale1": scale1.view(1, -1, 1, 1),
                "shift1": shift1.view(1, -1, 1, 1),
                "w1": w1.unsqueeze(2),
                "b1": b1,
                "w2": as_2d(block.conv2.weight),
                "b2": block.conv2.bias.detach(),
            }
            entry = {}
            for key, value in tensors.items():
                param = nn.Parameter(value.detach().to(dtype).contiguous(), requires_grad=False)
                params.append(param)
                entry[key] = param
            entry["dilation"] = block.conv1.dilation[0]
            # two valid convolutions shorten the block's output by dilation * (kernel - 1) per side
            entry["crop"] = block.conv1.dilation[0] * (block.conv1.kernel_size[0] - 1)
            self.blocks.append(entry)
        self.block_params = params
        # The skip path and heads act at output positions only; they stay float32.
        self.skip = net.skip
        self.convs = net.convs
        self.dense_after = [
            n for n in range(1, len(net.resblocks) + 1)
            if n % config.dense_every == 0 or n == len(net.resblocks)
        ]
        self.head_list = net.heads()
        for param in [self.w_in, *params]:
            if param.dim() == 4:
                param.data = param.data.contiguous(memory_format=torch.channels_last)

    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, 4, L) -> cropped skip representation (batch, hidden, L - context), float32."""
        out_len = x.shape[-1] - 2 * self.flank
        x = x.to(self.compute_dtype).unsqueeze(2).contiguous(memory_format=torch.channels_last)
        conv = F.conv2d(x, self.w_in, self.b_in)
        skip = self.skip(self._centre(conv, out_len).float())
        dense = iter(self.convs)
        for n, block in enumerate(self.blocks, start=1):
            act = torch.relu(conv * block["scale1"] + block["shift1"])
            act = torch.relu(F.conv2d(act, block["w1"], block["b1"], dilation=(1, block["dilation"])))
            act = F.conv2d(act, block["w2"], block["b2"], dilation=(1, block["dilation"]))
            conv = conv[..., block["crop"] : conv.shape[-1] - block["crop"]] + act
            if n in self.dense_after:
                skip = skip + next(dense)(self._centre(conv, out_len).float())
        return skip

    @staticmethod
    def _centre(t: torch.Tensor, length: int) -> torch.Tensor:
        """The central ``length`` positions of a (batch, ch, 1, L) tensor, as (batch, ch, length)."""
        start = (t.shape[-1] - length) // 2
        return t[..., start : start + length].squeeze(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return apply_heads(self.head_list, self.trunk(x))


class ReferenceNetwork(nn.Module):
    """The official module as it is, in the compute dtype; float32 out."""

    def __init__(self, net: Pangolin, dtype: torch.dtype = torch.float32):
        super().__init__()
        self.net = net.to(dtype)
        self.compute_dtype = dtype

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.to(self.compute_dtype)).float()


def build_runner(net: Pangolin, engine: str, dtype: torch.dtype) -> nn.Module:
    """Wrap one loaded network for the chosen engine and compute dtype."""
    if engine == "reference":
        return ReferenceNetwork(net, dtype)
    if engine == "fast":
        return FastNetwork(net, dtype)
    raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
