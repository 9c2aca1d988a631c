"""Non-local block (Wang et al., CVPR 2018), embedded-Gaussian form.

Paper: one non-local block after stage1 and one after stage2 of the ResNet-50. Spec: three 1x1
convolutions theta, phi, g to ``C/2`` channels; affinity ``softmax_j(theta_i . phi_j)`` over all
``H*W`` positions; the g features mixed by that affinity; a 1x1 convolution back to ``C`` channels
and a BatchNorm whose weight starts at zero, so the block is the identity at initialisation; a
residual sum. Ours: no sub-sampling of phi/g (the spec names none).

How it is computed is ours too. :meth:`NonLocalBlock.attend` hands theta, phi and g to
:func:`torch.nn.functional.scaled_dot_product_attention` with scale 1 (the embedded-Gaussian form
has no ``1/sqrt(d)``), as one attention head over ``[N, 1, H*W, C']``. PyTorch then picks a fused
kernel (flash attention on the CPU and on recent GPUs, memory-efficient attention elsewhere) that
never stores the ``H*W x H*W`` affinity: after stage1 of a 256x128 image that matrix is 2,048 x
2,048, 16 MiB per image. :meth:`NonLocalBlock.affinity` builds the matrix explicitly, for the
chapters' figures; the two agree to float32 rounding (``tests/test_models_modules.py``).
"""

from __future__ import annotations

import torch.nn.functional as F
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

    def attend(self, x: Tensor) -> Tensor:
        """``[N, C, H, W] -> [N, H*W, C']``: ``affinity(x) @ g(x)``, by fused attention."""
        # [N, 1, HW, C'], contiguous: the layout the fused kernels take (a transposed view or a
        # 3-d tensor sends PyTorch to its unfused fallback, which stores the affinity).
        theta, phi, g = (
            conv(x).flatten(2).transpose(1, 2).unsqueeze(1).contiguous()
            for conv in (self.theta, self.phi, self.g)
        )
        return F.scaled_dot_product_attention(theta, phi, g, scale=1.0).squeeze(1)

    def forward(self, x: Tensor) -> Tensor:
        n, c, h, w = x.shape
        # W_z, a 1x1 convolution, applied as the linear map it is on [N, HW, C']: the backward
        # pass then reuses the attention output the kernel keeps, instead of a [N, C', H, W] copy.
        z = F.linear(self.attend(x), self.out_conv.weight.flatten(1), self.out_conv.bias)
        # Copied to the contiguous [N, C, H, W] layout: BatchNorm's backward pass runs several
        # times slower on the transposed (channels-last) view beside a contiguous gradient.
        z = z.transpose(1, 2).contiguous().view(n, c, h, w)
        return x + self.out_bn(z)
