"""oneDNN's fused convolutions, as the CPU engine calls them (torch's mkldnn pointwise ops)."""

from __future__ import annotations

import torch


def fusion_available() -> bool:
    """Whether this torch build has the oneDNN fused convolution ops the CPU path uses."""
    mkldnn = torch.ops.mkldnn
    return (torch.backends.mkldnn.is_available() and hasattr(mkldnn, "_convolution_pointwise")
            and hasattr(mkldnn, "_convolution_pointwise_"))


def conv(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor, dilation: int = 1, groups: int = 1,
         post: str = "none") -> torch.Tensor:
    """oneDNN convolution (valid, stride 1) with an optional fused post-op (``"relu"``)."""
    return torch.ops.mkldnn._convolution_pointwise(x, w, b, [0, 0], [1, 1], [1, dilation], groups, post, [], "")


def conv_add_(acc: torch.Tensor, x: torch.Tensor, w: torch.Tensor, b: torch.Tensor, dilation: int) -> None:
    """``acc += conv(x) + b`` in one oneDNN pass (acc: channels-last, or with batch 1 a view of one cropped
    along its length; in bfloat16 a cropped view of a batch rounds differently, so batches pass dense ones)."""
    torch.ops.mkldnn._convolution_pointwise_.binary(acc, x, w, b, [0, 0], [1, 1], [1, dilation], 1, "add", 1.0,
                                                    None, [], None)
