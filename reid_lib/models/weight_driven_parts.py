"""Weight-driven part feature fusion (WDP) on the stage4 map F4.

Paper: split F4 into six horizontal parts ``p_1..p_6``; each part's "remainder part" ``t_i`` is the
sum of its one or two neighbours; two FC layers and a sigmoid give a weight pair ``(a_i, b_i)``; the
fused part is ``f_i = a_i p_i + b_i t_i``. Spec: parts by average pooling to ``(P, 1)``; FC1 ``2C ->
256`` on ``[p_i ; t_i]``, ReLU, FC2 ``256 -> 2``, shared over the parts; fusion modes for the
ablation: ``"plain"`` (``f_i = p_i``, plain stripes as PCB), ``"fixed"`` (``0.8 p_i + 0.2 t_i``),
``"adaptive"``.

Ours: ``P`` is configurable (at least 2); the F4 height must be at least ``P``. When it is not a
multiple of ``P`` the stripes are torch's adaptive-average-pooling bins, which overlap by at most
one row: e.g. a 256x128 image gives a 16-row F4, and ``P = 6`` gives the row ranges 0-2, 2-5, 5-7,
8-10, 10-13, 13-15. Option ``shared_fc=False`` gives each part its own FC pair.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

FUSIONS = ("plain", "fixed", "adaptive")
FIXED_WEIGHTS = (0.8, 0.2)


def remainder_parts(parts: Tensor) -> Tensor:
    """``[N, P, C] -> [N, P, C]``: ``t_1 = p_2``, ``t_P = p_(P-1)``, ``t_i = p_(i-1) + p_(i+1)``."""
    if parts.shape[1] < 2:
        raise ValueError(
            f"parts: expected at least 2 parts on dim 1, got shape {tuple(parts.shape)}"
        )
    zero = torch.zeros_like(parts[:, :1])
    above = torch.cat([zero, parts[:, :-1]], dim=1)  # p_(i-1), zero for i = 1
    below = torch.cat([parts[:, 1:], zero], dim=1)  # p_(i+1), zero for i = P
    return above + below


class PartWeights(nn.Module):
    """``[N, 2C] -> [N, 2]``: ``sigmoid(FC2(ReLU(FC1([p ; t]))))``, the pair ``(a, b)``."""

    def __init__(self, in_channels: int, hidden: int = 256) -> None:
        super().__init__()
        self.fc1 = nn.Linear(2 * in_channels, hidden)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Linear(hidden, 2)

    def forward(self, pair: Tensor) -> Tensor:
        return self.fc2(self.relu(self.fc1(pair))).sigmoid()


class WeightDrivenParts(nn.Module):
    """``F4 [N, C, H, W] -> (fused parts [N, P, C], weights [N, P, 2])``.

    ``weights[..., 0]`` is ``a_i`` (on the part), ``weights[..., 1]`` is ``b_i`` (on the remainder
    part), so ``fused = a * p + b * t`` in every mode: ``"plain"`` reports ``(1, 0)``, ``"fixed"``
    ``(0.8, 0.2)``.

    Args:
        in_channels: ``C``.
        num_parts: ``P`` (the paper: 6).
        fusion: ``"plain"``, ``"fixed"`` or ``"adaptive"``.
        shared_fc: one FC pair for all parts (spec) or one per part.
        hidden: FC1 width (spec: 256).
    """

    def __init__(
        self,
        in_channels: int,
        num_parts: int = 6,
        fusion: str = "adaptive",
        *,
        shared_fc: bool = True,
        hidden: int = 256,
    ) -> None:
        super().__init__()
        if fusion not in FUSIONS:
            raise ValueError(f"part_fusion={fusion!r} is unknown; expected one of {FUSIONS}")
        if num_parts < 2:
            raise ValueError(f"num_parts={num_parts}: expected at least 2")
        self.num_parts = num_parts
        self.fusion = fusion
        self.pool = nn.AdaptiveAvgPool2d((num_parts, 1))
        self.weights = None
        if fusion == "adaptive":
            count = 1 if shared_fc else num_parts
            self.weights = nn.ModuleList(PartWeights(in_channels, hidden) for _ in range(count))

    def parts(self, f4: Tensor) -> Tensor:
        """``[N, C, H, W] -> [N, P, C]``: the horizontal stripes, average-pooled."""
        if f4.shape[2] < self.num_parts:
            raise ValueError(
                f"num_parts={self.num_parts}: the stage4 map has height {f4.shape[2]}; expected "
                f"at least {self.num_parts} rows (an input image at least {16 * self.num_parts} "
                "pixels high, since stage4 is 1/16 of the image height)"
            )
        return self.pool(f4).squeeze(3).transpose(1, 2)

    def fusion_weights(self, parts: Tensor, remainders: Tensor) -> Tensor:
        """``[N, P, C], [N, P, C] -> [N, P, 2]``: ``(a_i, b_i)`` for each part."""
        n, p, _ = parts.shape
        if self.weights is None:
            pair = (1.0, 0.0) if self.fusion == "plain" else FIXED_WEIGHTS
            return parts.new_tensor(pair).expand(n, p, 2)
        pairs = torch.cat([parts, remainders], dim=2)
        if len(self.weights) == 1:
            return self.weights[0](pairs)
        return torch.stack([fc(pairs[:, i]) for i, fc in enumerate(self.weights)], dim=1)

    def forward(self, f4: Tensor) -> tuple[Tensor, Tensor]:
        parts = self.parts(f4)
        remainders = remainder_parts(parts)
        weights = self.fusion_weights(parts, remainders)
        return weights[..., :1] * parts + weights[..., 1:] * remainders, weights
