"""Non-local block (Wang et al., CVPR 2018), embedded-Gaussian form.

Paper: one non-local block after stage1 and one after stage2 of the ResNet-50. Spec: three 1x1
convolutions theta, phi, g to ``C/2`` channels; affinity ``softmax_j(theta_i . phi_j)`` over all
``H*W`` positions; the g features mixed by that affinity; a 1x1 convolution back to ``C`` channels
and a BatchNorm whose weight starts at zero, so the block is the identity at initialisation; a
residual sum. Ours: no sub-sampling of phi/g (the spec names none).
"""

from __future__ import annotations

from torch import Tensor, nn


class NonLocalBlock(nn.Module):
    """``[N, C, H, W] -> [N, C, H, W]``: ``x + BN(W_z(softmax(theta^T phi) g))``.

    Args:
        in_channels: ``C``.
        inter_channels: width of theta, phi and g; ``C // 2`` when ``None``.
    """

    def __init__(self, in_channels: int, inter_channels: int | None = None) -> None:
        super().__init__()
        inter = inter_channels or in_channels // 2
        self.theta = nn.Conv2d(in_channels, inter, kernel_size=1)
        self.phi = nn.Conv2d(in_channels, inter, kernel_size=1)
        self.g = nn.Conv2d(in_channels, inter, kernel_size=1)
        self.out_conv = nn.Conv2d(inter, in_channels, kernel_size=1)
        self.out_bn = nn.BatchNorm2d(in_channels)
        nn.init.zeros_(self.out_bn.weight)
        nn.init.zeros_(self.out_bn.bias)

    def affinity(self, x: Tensor) -> Tensor:
        """``[N, C, H, W] -> [N, H*W, H*W]``: row ``i`` is position ``i``'s softmax over positions.

        Positions are flattened row-major (index ``h * W + w``); each row sums to 1.
        """
        theta = self.theta(x).flatten(2).transpose(1, 2)  # [N, HW, C']
        phi = self.phi(x).flatten(2)  # [N, C', HW]
        return (theta @ phi).softmax(dim=-1)

    def forward(self, x: Tensor) -> Tensor:
        n, _, h, w = x.shape
        g = self.g(x).flatten(2).transpose(1, 2)  # [N, HW, C']
        y = (self.affinity(x) @ g).transpose(1, 2).reshape(n, -1, h, w)
        return x + self.out_bn(self.out_conv(y))
