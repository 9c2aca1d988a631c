"""The global ResNet baseline: the strong baseline of Luo et al., "Bag of Tricks and a Strong
Baseline for Deep Person Re-identification" (CVPRW 2019).

Theirs: ResNet-50 with last stride 1; global average pooling gives ``f_t`` (the triplet loss's
feature); a BN neck gives ``f_i = BN(f_t)``, whose bias-free classifier takes the label-smoothed
cross-entropy; the test feature is ``f_i``. Ours: the neck is the paper model's
(:class:`~reid_lib.models.heads.BNNeck`), and the test feature is L2-normalised (Bag of Tricks
compares ``f_i`` by cosine distance, which is the same ranking).

Shapes for a 256x128 image and ResNet-50: ``[N, 2048, 16, 8] -> f_t [N, 2048] -> logits [N, K]``.
"""

from __future__ import annotations

from torch import Tensor

from reid_lib.models.backbone import ResNetBackbone
from reid_lib.models.comparison import ComparisonModel
from reid_lib.models.heads import BNNeck
from reid_lib.models.outputs import BranchOutput


class GlobalResNet(ComparisonModel):
    """``[N, 3, H, W] ->`` one branch: triplet on ``f_t``, cross-entropy on ``BN(f_t)``."""

    def __init__(self, backbone: ResNetBackbone, num_classes: int) -> None:
        super().__init__(backbone, num_classes)
        channels = backbone.stage_channels["stage4"]
        self.neck = BNNeck(channels, num_classes)
        self.embedding_dim = channels

    def outputs(self, f4: Tensor) -> BranchOutput:
        pooled = f4.mean(dim=(2, 3))
        neck, logits = self.neck(pooled)
        return BranchOutput(logits=logits[:, None], triplet=pooled[:, None], embedding=neck)
