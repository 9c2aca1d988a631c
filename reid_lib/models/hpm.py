"""HPM, Horizontal Pyramid Matching of Fu et al., "Horizontal Pyramid Matching for Person
Re-identification" (AAAI 2019).

Theirs: ResNet-50 with last stride 1; a horizontal pyramid over the stage4 map with 1, 2, 4 and 8
bins (15 parts); each bin pooled by global average pooling plus global max pooling; per part, a
1x1 convolution to 256 channels and a classifier with its own cross-entropy, the cross-entropies
summed; no triplet loss; the test feature concatenates the parts. Ours: the per-part head is the
paper model's part head (:class:`~reid_lib.models.part_heads.PartHeads`: a linear layer on the
pooled bin, which is a 1x1 convolution, then BatchNorm, ReLU, dropout 0.5 and the classifier);
the test feature concatenates the heads' 256-d BatchNorm features; the bins are
``model.hpm_bins`` (``[1, 2, 4, 8]`` except under ``smoke``, whose 64-pixel images have 4 stage4
rows). When a config turns the triplet loss on (the ``hpm-triplet`` row, ours), it is one
batch-hard triplet on that test feature.

Shapes for a 256x128 image and ResNet-50: ``[N, 2048, 16, 8] -> parts [N, 15, 2048] -> features
[N, 15, 256], logits [N, 15, K]``; the test feature is ``[N, 3840]``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from reid_lib.models.backbone import ResNetBackbone
from reid_lib.models.comparison import ComparisonModel
from reid_lib.models.outputs import BranchOutput
from reid_lib.models.part_heads import PartHeads

PYRAMID = (1, 2, 4, 8)


def pyramid_parts(f4: Tensor, bins: Sequence[int]) -> Tensor:
    """``[N, C, h, w] -> [N, sum(bins), C]``: average + max pooling of each horizontal bin."""
    parts = [
        F.adaptive_avg_pool2d(f4, (count, 1)) + F.adaptive_max_pool2d(f4, (count, 1))
        for count in bins
    ]
    return torch.cat(parts, dim=2).squeeze(3).transpose(1, 2)


class HPM(ComparisonModel):
    """``[N, 3, H, W] ->`` ``sum(bins)`` branches, a cross-entropy each; the triplet feature is
    the concatenated test feature."""

    def __init__(
        self, backbone: ResNetBackbone, num_classes: int, bins: Sequence[int] = PYRAMID
    ) -> None:
        super().__init__(backbone, num_classes)
        bins = tuple(bins)
        if not bins or min(bins) < 1:
            raise ValueError(f"hpm_bins={bins!r}: expected positive bin counts, at least one")
        self.bins = bins
        self.heads = PartHeads(sum(bins), backbone.stage_channels["stage4"], num_classes)
        self.embedding_dim = sum(bins) * self.heads.reduced

    def outputs(self, f4: Tensor) -> BranchOutput:
        if f4.shape[2] < max(self.bins):
            raise ValueError(
                f"hpm_bins={self.bins}: the stage4 map has {f4.shape[2]} rows; expected at least "
                f"{max(self.bins)}"
            )
        features, logits = self.heads(pyramid_parts(f4, self.bins))
        embedding = features.flatten(1)
        return BranchOutput(logits=logits, triplet=embedding[:, None], embedding=embedding)
