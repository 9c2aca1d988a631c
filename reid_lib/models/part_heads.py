"""One classification head per fused part ``f_i`` of the WDP branch.

Spec: Linear ``C -> 256``, BatchNorm, ReLU, dropout 0.5, classifier; one cross-entropy per part.
Ours: the classifier has a bias (as in PCB); the part's test feature is the 256-d BatchNorm output.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class PartHead(nn.Module):
    """``[N, C] -> ([N, D] BN feature, [N, K] logits)`` with ``D = reduced``."""

    def __init__(
        self, in_features: int, num_classes: int, reduced: int = 256, dropout: float = 0.5
    ) -> None:
        super().__init__()
        self.reduce = nn.Linear(in_features, reduced)
        self.bn = nn.BatchNorm1d(reduced)
        self.relu = nn.ReLU()  # not in place: the BN output is returned as the part's feature
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(reduced, num_classes)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        feature = self.bn(self.reduce(x))
        return feature, self.classifier(self.dropout(self.relu(feature)))


class PartHeads(nn.Module):
    """``[N, P, C] -> ([N, P, D] features, [N, P, K] logits)``: head ``i`` on part ``i``."""

    def __init__(self, num_parts: int, in_features: int, num_classes: int, reduced: int = 256):
        super().__init__()
        self.reduced = reduced
        self.heads = nn.ModuleList(
            PartHead(in_features, num_classes, reduced) for _ in range(num_parts)
        )

    def forward(self, fused: Tensor) -> tuple[Tensor, Tensor]:
        features, logits = zip(
            *(head(fused[:, i]) for i, head in enumerate(self.heads)), strict=True
        )
        return torch.stack(features, dim=1), torch.stack(logits, dim=1)
