"""The plain global ResNet that the paper compares with: IDE, the ID-discriminative embedding of
Zheng et al., "Person Re-identification: Past, Present and Future" (arXiv 2016).

Theirs: an ImageNet ResNet-50 fine-tuned as an identity classifier (global average pooling, a
fully connected classifier, softmax cross-entropy); the test feature is the pooled vector. This is
what the paper's Fig. 9 calls "ResNet50 ... only uses global features". Ours: the backbone has last
stride 1, as every comparison model here (one backbone for all, so that the rows differ only in
their heads and losses); the loss is the config's (the ``resnet-ide`` row sets plain
cross-entropy: no label smoothing, no triplet); the test feature is L2-normalised for the
Euclidean ranking.

Shapes for a 256x128 image and ResNet-50: ``[N, 2048, 16, 8] -> pooled [N, 2048] -> logits
[N, K]``; the test feature is the pooled ``[N, 2048]``.
"""

from __future__ import annotations

from torch import Tensor, nn

from reid_lib.models.backbone import ResNetBackbone
from reid_lib.models.comparison import ComparisonModel
from reid_lib.models.outputs import BranchOutput


class IDEResNet(ComparisonModel):
    """``[N, 3, H, W] ->`` one branch: a linear classifier on the pooled map, which is also the
    test feature (and the triplet feature, when a config turns the triplet on)."""

    def __init__(self, backbone: ResNetBackbone, num_classes: int) -> None:
        super().__init__(backbone, num_classes)
        channels = backbone.stage_channels["stage4"]
        self.classifier = nn.Linear(channels, num_classes)
        self.embedding_dim = channels

    def outputs(self, f4: Tensor) -> BranchOutput:
        pooled = f4.mean(dim=(2, 3))
        logits = self.classifier(pooled)
        return BranchOutput(logits=logits[:, None], triplet=pooled[:, None], embedding=pooled)
