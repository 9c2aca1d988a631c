"""Tiny spatial attention (TSA): a spatial attention map with exactly 10 parameters.

Paper: four sub-operations, 10 parameters in all: a cross-channel average (0 parameters), a
convolution (the 10), a sigmoid (0), and a multiplication of the input by the map (0). Spec: the
convolution is 3x3, 1 -> 1 channel, with bias and padding 1 (9 + 1 parameters).
"""

from __future__ import annotations

from torch import Tensor, nn


class TinySpatialAttention(nn.Module):
    """``[N, C, H, W] -> [N, C, H, W]``: the input times a ``[N, 1, H, W]`` map in (0, 1)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 1, kernel_size=3, padding=1, bias=True)

    def attention_map(self, x: Tensor) -> Tensor:
        """``[N, C, H, W] -> [N, 1, H, W]``: ``sigmoid(conv(mean over channels))``."""
        return self.conv(x.mean(dim=1, keepdim=True)).sigmoid()

    def forward(self, x: Tensor) -> Tensor:
        return x * self.attention_map(x)
