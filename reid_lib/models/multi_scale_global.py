"""Multi-scale global feature module (MSG) on the stage4 map F4.

Paper: parallel branches of different kernel sizes on F4, fused, passed through TSA, and summed with
F4. Spec (for ResNet-50, C = 2048 channels):

- b1: 1x1 conv C -> C/2
- b2: 1x1 conv C -> C/4, 5x5 conv C/4 -> C/2
- b3: 1x1 conv C -> C/4, 3x3 conv C/4 -> C/2, 3x3 conv C/2 -> C/2
- b4: 3x3 average pooling (stride 1, padding 1), 1x1 conv C -> C/2

then concatenation, 1x1 conv to C, TSA, and ``G = F4 + TSA(fused)``. Which branches are used is
configurable (the paper ablates them). Ours: channel counts are fractions of C so ResNet-18/34
(C = 512) work; BatchNorm + ReLU after each convolution (``conv_bn_relu=False`` gives plain
convolutions with bias instead).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch.nn.functional as F
from torch import Tensor, nn

from reid_lib.models.tiny_spatial_attention import TinySpatialAttention

BRANCHES = (1, 2, 3, 4)


def conv_unit(
    in_channels: int, out_channels: int, kernel_size: int, bn_relu: bool
) -> nn.Sequential:
    """A same-padding convolution, followed by BatchNorm and ReLU when ``bn_relu``."""
    conv = nn.Conv2d(
        in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=not bn_relu
    )
    nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")
    if not bn_relu:
        return nn.Sequential(conv)
    return nn.Sequential(conv, nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))


def _branch(index: int, c: int, bn_relu: bool) -> nn.Sequential:
    if index == 1:
        return conv_unit(c, c // 2, 1, bn_relu)
    if index == 2:
        return nn.Sequential(
            conv_unit(c, c // 4, 1, bn_relu), conv_unit(c // 4, c // 2, 5, bn_relu)
        )
    if index == 3:
        return nn.Sequential(
            conv_unit(c, c // 4, 1, bn_relu),
            conv_unit(c // 4, c // 2, 3, bn_relu),
            conv_unit(c // 2, c // 2, 3, bn_relu),
        )
    return nn.Sequential(nn.AvgPool2d(3, stride=1, padding=1), conv_unit(c, c // 2, 1, bn_relu))


class MultiScaleGlobal(nn.Module):
    """``[N, C, H, W] -> [N, C, H, W]``: ``G = F4 + TSA(fuse(concat(branches(F4))))``.

    Args:
        in_channels: ``C`` (2048 for ResNet-50, 512 for ResNet-18/34); divisible by 4.
        branches: which of the branches 1..4 to use, e.g. ``(1, 2, 3, 4)``.
        tsa: apply :class:`TinySpatialAttention` to the fused map (else ``G = F4 + fused``).
        conv_bn_relu: BatchNorm + ReLU after each convolution (ours).
    """

    def __init__(
        self,
        in_channels: int,
        branches: Sequence[int] = BRANCHES,
        *,
        tsa: bool = True,
        conv_bn_relu: bool = True,
    ) -> None:
        super().__init__()
        branches = tuple(branches)
        if not branches or len(set(branches)) != len(branches) or set(branches) - set(BRANCHES):
            raise ValueError(
                f"msg_branches={branches!r}: expected distinct branch numbers from {BRANCHES}, "
                "at least one"
            )
        if in_channels % 4:
            raise ValueError(f"in_channels={in_channels}: expected a multiple of 4")
        self.branch_ids = tuple(sorted(branches))
        self.branches = nn.ModuleDict(
            {f"b{i}": _branch(i, in_channels, conv_bn_relu) for i in self.branch_ids}
        )
        self.fuse = conv_unit(len(self.branch_ids) * in_channels // 2, in_channels, 1, conv_bn_relu)
        self.tsa = TinySpatialAttention() if tsa else None

    def fused(self, f4: Tensor) -> Tensor:
        """``[N, C, H, W] -> [N, C, H, W]``: the branches concatenated and fused, before TSA.

        The fusing 1x1 convolution of the concatenation is computed as the sum of its weight
        slices applied to each branch, which is the same sum: the backward pass then keeps the
        branch outputs it keeps anyway, not a ``2C``-channel concatenation (128 MiB for a batch
        of 64 at the paper's size).
        """
        outputs = [branch(f4) for branch in self.branches.values()]
        conv, after = self.fuse[0], self.fuse[1:]
        slices = conv.weight.split([out.shape[1] for out in outputs], dim=1)
        mixed = F.conv2d(outputs[0], slices[0], conv.bias)
        for out, weight in zip(outputs[1:], slices[1:], strict=True):
            mixed = mixed + F.conv2d(out, weight)
        return after(mixed)

    def attention_map(self, f4: Tensor) -> Tensor:
        """``[N, C, H, W] -> [N, 1, H, W]``: the TSA map applied to the fused branches."""
        if self.tsa is None:
            raise ValueError("this MultiScaleGlobal was built with tsa=False: it has no map")
        return self.tsa.attention_map(self.fused(f4))

    def forward(self, f4: Tensor) -> Tensor:
        fused = self.fused(f4)
        if self.tsa is not None:
            fused = self.tsa(fused)
        return f4 + fused
