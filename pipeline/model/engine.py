"""Runners that turn one network into a function (batch, 4, L) -> (batch, 12, L - context).

``reference`` runs the official module as it is ('same' padding), in the 5,000-base windows the
official tools use. ``fast`` computes exactly the same function with less work and faster kernels:

- valid (unpadded) convolutions: each layer computes only the positions later layers need;
- the BatchNorm after each block's first convolution is folded into that convolution (exact
  algebra), and in bfloat16 so is the scale of the BatchNorm before it (ReLU(s x + h) = |s|
  ReLU(sign(s) x + h/|s|)); its shift acts on the residual stream before a ReLU and stays a pass
  of its own;
- the skip path (1x1 convolutions) and the heads are matmuls at the output positions only, each tap
  consumed as soon as it is made; the first tap, linear in the one-hot input, is taken from it;
- convolutions run as conv2d over (batch, channels, 1, length) in channels-last layout, which
  oneDNN and cuDNN run markedly faster than conv1d;
- on CPU every elementwise step rides on a convolution (oneDNN post-ops), so a block is three
  passes over memory: BatchNorm-1 + ReLU as a per-channel (depthwise 1x1) convolution with a fused
  ReLU, the first convolution with its ReLU fused, the second convolution accumulated in place into
  the residual stream. The stream is one buffer per window that every block crops from both ends
  (a view, no copy), so no residual add, crop copy or new stream tensor is made. On GPU the first
  convolution, bias and ReLU are one cuDNN call;
- long windows, so the 10,000 bases of context are paid once per window, not once per 5,000;
- on CPU the trunk convolutions run on oneDNN or, per shape where it measured faster (or forced with
  ``kernel="own"``), on our own kernel (own_kernel.py), which stores with the same bias, ReLU or add;
- on CUDA they run on cuDNN or, per shape and dtype where it measured faster on the block's first input
  (gpu.use_triton; or forced with ``gpu_kernel="triton"``), on our Triton kernel (triton_conv.py), where
  a block is two launches: BatchNorm-1 + ReLU on load, first convolution, bias and ReLU on store; second
  convolution with its bias added into the residual stream on store.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError
from . import cpu, gpu, onednn, own_kernel
from .choices import ENGINES, GPU_KERNELS, check_choice
from .network import Pangolin

# oneDNN takes float32 biases with half-precision inputs and adds them before the output's single
# rounding: kept exact there (only on the CPU's oneDNN calls; cuDNN wants the input's dtype)
ONEDNN_FLOAT32_BIASES = ("bn1_bias", "b1_float32")
TAP_ROWS = 8192  # positions per float32 conversion of a half-precision tap (1 MiB at 32 channels)


def _bn_affine(bn: nn.BatchNorm1d) -> tuple[torch.Tensor, torch.Tensor]:
    """BatchNorm in eval mode as ``x * scale + shift`` (computed in float64 for exact folding)."""
    scale = bn.weight.double() / torch.sqrt(bn.running_var.double() + bn.eps)
    shift = bn.bias.double() - bn.running_mean.double() * scale
    return scale, shift


def _add_tap(total: torch.Tensor, rows: torch.Tensor, weight: torch.Tensor, buffer: torch.Tensor | None) -> None:
    """``total += rows @ weight`` in float32 for tap rows (positions, hidden); half-precision rows are
    converted ``len(buffer)`` at a time, so the float32 copy stays in cache instead of going to memory."""
    if buffer is None:
        total.addmm_(rows, weight)
        return
    for start in range(0, len(rows), len(buffer)):
        part = buffer[: len(rows) - start]
        part.copy_(rows[start : start + len(part)])
        total[start : start + len(part)].addmm_(part, weight)


def _on_onednn(x: torch.Tensor) -> bool:
    return x.device.type == "cpu" and onednn.fusion_available()


def _own_rows(x: torch.Tensor, block: dict, key: str) -> torch.Tensor | None:
    """The block's weights packed for our CPU kernel where it runs this convolution (chosen for the
    block's shape and dtype, rows on the CPU), else None."""
    rows = block.get(key)
    return rows if rows is not None and own_kernel.fits(x) else None


def _on_triton(x: torch.Tensor, block: dict) -> bool:
    """Whether the block's convolutions run on our Triton kernel for ``x``: forced (``"triton"``, on any
    device: CPU tensors only under Triton's interpreter, for tests), refused (``"cudnn"``), or on CUDA
    where it measured faster for the block's shape and ``x``'s dtype (``"auto"``, `gpu.use_triton`)."""
    kernel = block["gpu_kernel"]
    if kernel == "auto":
        return x.is_cuda and gpu.use_triton((block["size"], block["dilation"], x.dtype), x.device,
                                            lambda: _both_ways(x, block))
    return kernel == "triton"


def _both_ways(x: torch.Tensor, block: dict) -> dict[str, Callable[[], torch.Tensor]]:
    """The block's convolutions on its input ``x`` through cuDNN and through our kernel, each adding into
    its own scratch copy of the cropped stream and returning it: the two calls "auto" times
    (`gpu.use_triton`)."""
    crop = block["crop"]
    cudnn_out, triton_out = (x[..., crop : x.shape[-1] - crop].clone(memory_format=torch.channels_last)
                             for _ in range(2))

    def cudnn() -> torch.Tensor:
        return cudnn_out.add_(_library_conv(_library_conv_relu(bn_relu(x, block), block), block))

    def triton() -> torch.Tensor:
        _triton_conv_add_(_triton_conv_relu(x, block), triton_out, block)
        return triton_out

    return {"cudnn": cudnn, "triton": triton}


def activate(x: torch.Tensor, block: dict) -> torch.Tensor:
    """A block's input ``x`` as its first convolution (`conv_relu`) takes it: ReLU(BatchNorm-1(x)), or ``x``
    itself where the block runs on our Triton kernel, which applies them as it loads ``x``. The cone passes
    lay the variants' own over the reference's (elementwise steps commute with the overlay)."""
    return x if _on_triton(x, block) else bn_relu(x, block)


def bn_relu(x: torch.Tensor, block: dict) -> torch.Tensor:
    """ReLU(BatchNorm-1(x)) of a block, (batch, hidden, 1, L) channels-last: one pass on CPU, two
    elsewhere (scale and shift in one op, rounded once in half precision; ReLU in place)."""
    if _on_onednn(x):
        return onednn.conv(x, block["bn1_weight"], block["bn1_bias"], groups=x.shape[1], post="relu")
    return torch.addcmul(block["shift1"], x, block["scale1"]).relu_()


def conv_relu(x: torch.Tensor, block: dict) -> torch.Tensor:
    """ReLU of a block's first convolution (BatchNorm-2 folded in) of `activate`'s output, valid positions
    only: one oneDNN, cuDNN or Triton call (cuDNN's: measured on an H200, 1.2x the whole engine in half
    precision against two ops; Triton's applies BatchNorm-1 + ReLU too)."""
    if _on_triton(x, block):
        return _triton_conv_relu(x, block)
    if (rows := _own_rows(x, block, "w1_rows")) is not None:
        return own_kernel.conv(x, rows, block["b1_float32"], block["dilation"], relu=True)
    if _on_onednn(x):
        return onednn.conv(x, block["w1"], block["b1_float32"], block["dilation"], post="relu")
    return _library_conv_relu(x, block)


def _library_conv_relu(x: torch.Tensor, block: dict) -> torch.Tensor:
    """ReLU of the first convolution of an activated ``x`` through torch: one cuDNN call on CUDA."""
    if x.is_cuda and torch.version.hip is None and torch.backends.cudnn.is_available() and torch.backends.cudnn.enabled:
        return torch.cudnn_convolution_relu(x, block["w1"], block["b1"], (1, 1), (0, 0), (1, block["dilation"]), 1)
    return F.conv2d(x, block["w1"], block["b1"], dilation=(1, block["dilation"])).relu_()


def _library_conv(x: torch.Tensor, block: dict) -> torch.Tensor:
    """The block's second convolution with its bias through torch (cuDNN on CUDA)."""
    return F.conv2d(x, block["w2"], block["b2"], dilation=(1, block["dilation"]))


def _triton_conv_relu(x: torch.Tensor, block: dict) -> torch.Tensor:
    """ReLU(conv1(ReLU(BatchNorm-1(x))) + bias) in one Triton launch."""
    return gpu.triton_conv().dilated_conv(x, block["w1"], block["b1"], block["dilation"], in_scale=block["scale1"],
                                          in_shift=block["shift1"], relu=True)


def _triton_conv_add_(x: torch.Tensor, stream: torch.Tensor, block: dict) -> None:
    """``stream += conv2(x) + bias`` in one Triton launch, stored in place."""
    gpu.triton_conv().dilated_conv(x, block["w2"], block["b2"], block["dilation"], accumulate_into=stream)


def conv_add_(x: torch.Tensor, stream: torch.Tensor, block: dict) -> None:
    """``stream += `` a block's second convolution, in place (``stream`` channels-last, or a view of
    such a tensor cropped along its length): one pass on CPU or on our Triton kernel, and no new tensor."""
    if _on_triton(x, block):
        _triton_conv_add_(x, stream, block)
    elif (rows := _own_rows(x, block, "w2_rows")) is not None and own_kernel.fits(stream):
        own_kernel.conv(x, rows, block["b2_float32"], block["dilation"], add_into=stream)
    elif _on_onednn(x):
        onednn.conv_add_(stream, x, block["w2"], block["b2"], block["dilation"])
    else:
        stream += _library_conv(x, block)


class FastNetwork(nn.Module):
    """The same function as `Pangolin.forward` with valid convolutions and folded BatchNorm.

    ``kernel`` chooses the CPU's trunk convolutions (auto, onednn, own: `cpu.use_own_kernel`), ``gpu_kernel``
    CUDA's (auto, cudnn, triton: `_on_triton`); `pipeline.model.device.check_kernel` maps a user's one
    ``--kernel`` name to the pair for a device.
    """

    def __init__(self, net: Pangolin, dtype: torch.dtype = torch.float32, kernel: str = "auto",
                 gpu_kernel: str = "auto"):
        super().__init__()
        check_choice("gpu kernel", gpu_kernel, GPU_KERNELS)
        if gpu_kernel == "triton" and not gpu.triton_available():
            raise ConfigError(gpu.TRITON_MISSING)
        config = net.config
        self.config = config
        self.flank = config.flank
        self.compute_dtype = dtype
        as_2d = lambda w: w.detach().unsqueeze(2)  # (out, in, k) -> (out, in, 1, k)  # noqa: E731

        self.w_in = nn.Parameter(as_2d(net.conv1.weight).to(dtype), requires_grad=False)
        self.b_in = nn.Parameter(net.conv1.bias.detach().to(dtype), requires_grad=False)
        # the input convolution as float32 rows (4, hidden): the first skip tap, from the bases (_bases_tap)
        self.w_in_rows = nn.Parameter(net.conv1.weight.detach()[:, :, 0].T.contiguous(), requires_grad=False)
        self.b_in_rows = nn.Parameter(net.conv1.bias.detach().clone(), requires_grad=False)
        self.blocks: list[dict] = []
        params = nn.ParameterList()
        for block in net.resblocks:
            scale1, shift1 = _bn_affine(block.bn1)
            scale2, shift2 = _bn_affine(block.bn2)
            # In bfloat16, ReLU(s x + h) = |s| ReLU(sign(s) x + h / |s|): BatchNorm-1's scale moves into
            # the first convolution's input channels, so it is not rounded on its own (the largest source
            # of bfloat16 error, measured) and BatchNorm-1 keeps an exact +-1 weight. Not in float16,
            # whose range h / |s| could leave, nor in float32, which keeps the official arithmetic.
            fold = dtype == torch.bfloat16 and bool((scale1 != 0).all())
            magnitude = scale1.abs() if fold else torch.ones_like(scale1)
            sign1, shift1 = scale1 / magnitude, shift1 / magnitude
            w1 = block.conv1.weight.double() * scale2[:, None, None] * magnitude[None, :, None]
            b1 = block.conv1.bias.double() * scale2 + shift2
            tensors = {
                "scale1": sign1.view(1, -1, 1, 1),
                "shift1": shift1.view(1, -1, 1, 1),
                "bn1_weight": sign1.view(-1, 1, 1, 1),  # BatchNorm-1 as a depthwise 1x1 convolution
                "bn1_bias": shift1,
                "w1": w1.unsqueeze(2),
                "b1": b1,
                "b1_float32": b1,
                "w2": as_2d(block.conv2.weight),
                "b2": block.conv2.bias.detach(),
            }
            entry = {}
            for key, value in tensors.items():
                exact = key in ONEDNN_FLOAT32_BIASES
                param = nn.Parameter(value.detach().to(torch.float32 if exact else dtype).contiguous(),
                                     requires_grad=False)
                params.append(param)
                entry[key] = param
            entry["dilation"] = block.conv1.dilation[0]
            entry["size"] = size = block.conv1.kernel_size[0]
            entry["gpu_kernel"] = gpu_kernel
            # on the CPU, our own kernel where it is faster for this shape and dtype (cpu.use_own_kernel)
            if dtype in own_kernel.DTYPES and cpu.use_own_kernel(kernel, size, entry["dilation"], dtype):
                rows = {"w1_rows": own_kernel.pack(entry["w1"]), "w2_rows": own_kernel.pack(entry["w2"]),
                        "b2_float32": entry["b2"].float()}  # the kernel adds float32 biases
                for key, value in rows.items():
                    entry[key] = nn.Parameter(value, requires_grad=False)
                    params.append(entry[key])
            # two valid convolutions shorten the block's output by dilation * (kernel - 1) per side
            entry["crop"] = entry["dilation"] * (size - 1)
            self.blocks.append(entry)
        self.block_params = params
        # The skip path and heads act at output positions only; they stay float32 (used by cone.py).
        self.dense_after = [
            n for n in range(1, len(net.resblocks) + 1)
            if n % config.dense_every == 0 or n == len(net.resblocks)
        ]
        self.head_list = nn.ModuleList(net.heads())  # registered: moves with the network (to a GPU)
        # The same 1x1 convolutions as matmuls over (positions, channels) rows: one weight per tap
        # (input, skip, dense after block n), their biases summed; all heads as one (hidden, 12) matrix.
        taps = [net.skip, *net.convs]
        self.tap_weights = nn.ParameterList(
            nn.Parameter(conv.weight.detach()[:, :, 0].T.contiguous(), requires_grad=False) for conv in taps)
        self.tap_bias = nn.Parameter(sum(conv.bias.detach() for conv in taps), requires_grad=False)
        heads = self.head_list
        self.head_weight = nn.Parameter(torch.cat([h.weight.detach()[:, :, 0] for h in heads]).T.contiguous(),
                                        requires_grad=False)
        self.head_bias = nn.Parameter(torch.cat([h.bias.detach() for h in heads]), requires_grad=False)
        # Scores need only the heads' 12 logits, linear in the taps: fold each tap's 1x1 convolution
        # into the heads (float64), so the tail is 12 columns wide instead of 32 (exact algebra).
        head64 = self.head_weight.double()
        self.tap_logits = nn.ParameterList(
            nn.Parameter((w.double() @ head64).float(), requires_grad=False) for w in self.tap_weights)
        self.logit_bias = nn.Parameter((self.tap_bias.double() @ head64 + self.head_bias.double()).float(),
                                       requires_grad=False)
        for param in [self.w_in, *params]:
            if param.dim() == 4:
                param.data = param.data.contiguous(memory_format=torch.channels_last)

    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, 4, L) -> cropped skip representation (batch, hidden, L - context), float32."""
        return self.skip_rows(x).transpose(1, 2)

    def skip_rows(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, 4, L) -> skip representation as rows (batch, L - context, hidden), float32."""
        return self._tapped(x, self.tap_weights, self.tap_bias)

    def _tapped(self, x: torch.Tensor, weights: list[torch.Tensor], bias: torch.Tensor) -> torch.Tensor:
        """``bias + sum_k tap_k @ weights[k]`` over the skip path's taps (rows at the output positions)."""
        if x.device.type == "cpu" and onednn.fusion_available():
            return torch.stack([self._fused(x[i : i + 1], weights, bias) for i in range(x.shape[0])])
        return self._plain(x, weights, bias)

    def _fused(self, x: torch.Tensor, weights: list[torch.Tensor], bias: torch.Tensor) -> torch.Tensor:
        """One window (1, 4, L) through the fused CPU path -> (L - context, columns) float32."""
        out_len = x.shape[-1] - 2 * self.flank
        total = self._input_tap(x, weights, bias)[0]
        x = x.to(self.compute_dtype).unsqueeze(2).contiguous(memory_format=torch.channels_last)
        stream = self.input_conv(x)
        half = self.compute_dtype != torch.float32
        buffer = torch.empty(min(TAP_ROWS, out_len), stream.shape[1], device=stream.device) if half else None
        tap = 1
        for n, block in enumerate(self.blocks, start=1):
            act = conv_relu(activate(stream, block), block)
            crop = block["crop"]
            stream = stream[..., crop : stream.shape[-1] - crop]
            conv_add_(act, stream, block)
            if n in self.dense_after:  # the stream is updated in place: each tap is consumed now
                _add_tap(total, self._centre(stream, out_len)[0].T, weights[tap], buffer)
                tap += 1
        return total

    def _plain(self, x: torch.Tensor, weights: list[torch.Tensor], bias: torch.Tensor) -> torch.Tensor:
        """Any device, any batch: separate elementwise ops (cuDNN on GPU) -> (batch, L - context, columns)."""
        out_len = x.shape[-1] - 2 * self.flank
        total = self._input_tap(x, weights, bias)
        x = x.to(self.compute_dtype).unsqueeze(2).contiguous(memory_format=torch.channels_last)
        conv = self.input_conv(x)
        tap = 1
        for n, block in enumerate(self.blocks, start=1):
            act = conv_relu(activate(conv, block), block)
            conv = conv[..., block["crop"] : conv.shape[-1] - block["crop"]]
            conv_add_(act, conv, block)  # in place, as on the fused path: each tap is consumed at once
            if n in self.dense_after:
                total += torch.matmul(self._centre(conv, out_len).transpose(1, 2).float(), weights[tap])
                tap += 1
        return total

    def input_conv(self, x: torch.Tensor) -> torch.Tensor:
        """The input convolution of one-hot (batch, 4, 1, L) in the compute dtype, channels-last (on
        oneDNN with its float32 bias: exact until the output's rounding)."""
        if _on_onednn(x):
            return onednn.conv(x, self.w_in, self.b_in_rows)
        return F.conv2d(x, self.w_in, self.b_in)

    def _input_tap(self, x: torch.Tensor, weights: list[torch.Tensor], bias: torch.Tensor) -> torch.Tensor:
        """``bias + tap_0 @ weights[0]`` for a one-hot (batch, 4, L) -> (batch, L - context, columns)."""
        out_len = x.shape[-1] - 2 * self.flank
        return self._bases_tap(x[..., self.flank : self.flank + out_len].transpose(1, 2), weights[0], bias)

    def _bases_tap(self, bases: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        """``bias + tap_0 @ weight`` for one-hot rows (..., positions, 4). The first tap is the input
        convolution, linear in the bases: taken straight from them in float32 whatever the compute
        dtype (folded in float64), which also spares a pass over it. The cone path uses it too, so
        that its scores round as the engine's."""
        fold = weight.double()
        return torch.matmul(bases.float(), (self.w_in_rows.double() @ fold).float()) + (
            bias + (self.b_in_rows.double() @ fold).float())

    @staticmethod
    def _centre(t: torch.Tensor, length: int) -> torch.Tensor:
        """The central ``length`` positions of a (batch, ch, 1, L) tensor, as (batch, ch, length)."""
        start = (t.shape[-1] - length) // 2
        return t[..., start : start + length].squeeze(2)

    def rows(self, x: torch.Tensor, tissue: int | None = None) -> torch.Tensor:
        """(batch, 4, L) -> scores as rows (batch, L - context, 12): heads over the skip path; with
        ``tissue``, only that tissue's 3 channels, from its own 3 logit columns (an ensemble member
        feeds one tissue: the tail then does a quarter of the work)."""
        if tissue is None:
            return self._activate(self._tapped(x, self.tap_logits, self.logit_bias))
        columns = slice(3 * tissue, 3 * tissue + 3)
        weights = [w[:, columns].contiguous() for w in self.tap_logits]
        return self._activate(self._tapped(x, weights, self.logit_bias[columns].contiguous()))

    def head_rows(self, skip: torch.Tensor) -> torch.Tensor:
        """Skip rows (..., positions, hidden) -> scores (..., positions, 12)."""
        return self._activate(torch.matmul(skip, self.head_weight) + self.head_bias)

    @staticmethod
    def _activate(logits: torch.Tensor) -> torch.Tensor:
        """Per tissue: softmax of the (no splice, splice) pair, written as sigmoids of the logit
        difference (equal, and much faster over a last dimension of 2), then the usage sigmoid."""
        by_tissue = logits.unflatten(-1, (-1, 3))
        out = torch.empty_like(by_tissue)
        difference = by_tissue[..., 1] - by_tissue[..., 0]
        torch.sigmoid(-difference, out=out[..., 0])
        torch.sigmoid(difference, out=out[..., 1])
        torch.sigmoid(by_tissue[..., 2], out=out[..., 2])
        return out.flatten(-2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rows(x).transpose(1, 2)


class ReferenceNetwork(nn.Module):
    """The official module as it is, in the compute dtype; float32 out."""

    def __init__(self, net: Pangolin, dtype: torch.dtype = torch.float32):
        super().__init__()
        self.net = net.to(dtype)
        self.compute_dtype = dtype

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.to(self.compute_dtype)).float()

    def rows(self, x: torch.Tensor, tissue: int | None = None) -> torch.Tensor:
        rows = self.forward(x).transpose(1, 2)
        return rows if tissue is None else rows[..., 3 * tissue : 3 * tissue + 3]


def build_runner(net: Pangolin, engine: str, dtype: torch.dtype, kernel: str = "auto",
                 gpu_kernel: str = "auto") -> nn.Module:
    """Wrap one loaded network for the chosen engine, compute dtype, CPU kernel (`cpu.use_own_kernel`) and
    CUDA kernel (auto, cudnn, triton)."""
    if engine == "reference":
        return ReferenceNetwork(net, dtype)
    if engine == "fast":
        return FastNetwork(net, dtype, kernel, gpu_kernel)
    raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
