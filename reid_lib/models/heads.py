"""Heads on the global maps: the BN neck, the stage3/stage4 heads and the MSG head.

Paper: for stage3 and stage4, average pooling ``a`` and max pooling ``m``; triplet loss on each;
``a + m`` into an FC layer for cross-entropy; at test time ``a + m`` of both stages. Spec: the FC
layer is a BN neck (BatchNorm, then a bias-free linear classifier), and the test feature is taken
after the BatchNorm. Ours, following Bag of Tricks: the neck's BatchNorm bias is frozen at zero and
the classifier starts from N(0, 0.001^2); the MSG head pools ``G`` by average only.
"""

from __future__ import annotations

from torch import Tensor, nn

from reid_lib.models.outputs import GlobalOutput, StageOutput


class BNNeck(nn.Module):
    """``[N, C] -> ([N, C] BN feature, [N, K] logits)``."""

    def __init__(self, in_features: int, num_classes: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm1d(in_features)
        self.bn.bias.requires_grad_(False)
        self.classifier = nn.Linear(in_features, num_classes, bias=False)
        nn.init.normal_(self.classifier.weight, std=0.001)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        neck = self.bn(x)
        return neck, self.classifier(neck)


class StageHead(nn.Module):
    """``[N, C, H, W] -> StageOutput``: ``a``, ``m``, ``BN(a + m)`` and its logits."""

    def __init__(self, in_channels: int, num_classes: int) -> None:
        super().__init__()
        self.neck = BNNeck(in_channels, num_classes)

    def forward(self, x: Tensor) -> StageOutput:
        avg, mx = x.mean(dim=(2, 3)), x.amax(dim=(2, 3))
        neck, logits = self.neck(avg + mx)
        return StageOutput(avg=avg, max=mx, neck=neck, logits=logits)


class GlobalHead(nn.Module):
    """``[N, C, H, W] -> GlobalOutput``: average pool, BN neck and logits (the MSG head)."""

    def __init__(self, in_channels: int, num_classes: int) -> None:
        super().__init__()
        self.neck = BNNeck(in_channels, num_classes)

    def forward(self, x: Tensor) -> GlobalOutput:
        feature = x.mean(dim=(2, 3))
        neck, logits = self.neck(feature)
        return GlobalOutput(feature=feature, neck=neck, logits=logits)
