"""PCB, the part-based convolutional baseline of Sun et al., "Beyond Part Models: Person Retrieval
with Refined Part Pooling" (ECCV 2018).

Theirs: ResNet-50 with last stride 1; the stage4 map cut into P = 6 horizontal stripes, each
average-pooled to a column vector g; per stripe, a 1x1 convolution to 256 channels (h) with
BatchNorm and ReLU, and a classifier with its own cross-entropy, the P cross-entropies summed; no
triplet loss. At test time either the six g or the six h are concatenated; their results use g,
the larger and slightly better one, and so do we. Ours: the per-stripe head is the paper model's
part head (:class:`~reid_lib.models.part_heads.PartHeads`: a linear layer on the pooled stripe,
which is a 1x1 convolution, then BatchNorm, ReLU, dropout 0.5 and the classifier); each stripe's g
is L2-normalised before the concatenation, so that every stripe weighs the same; P is
``model.pcb_stripes``: 6 wherever the stage4 map has 6 rows, 4 on the 64-pixel images of
``smoke``. When a config turns the triplet loss on (the ``pcb-triplet`` row, ours), it is one
batch-hard triplet on the concatenated g. Their refined part pooling (RPP) is not implemented.

Shapes for a 256x128 image, ResNet-50 and P = 6: ``[N, 2048, 16, 8] -> stripes g [N, 6, 2048] ->
features h [N, 6, 256], logits [N, 6, K]``; the test feature is g, ``[N, 12288]``.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from reid_lib.models.backbone import ResNetBackbone
from reid_lib.models.comparison import ComparisonModel
from reid_lib.models.outputs import BranchOutput
from reid_lib.models.part_heads import PartHeads


class PCB(ComparisonModel):
    """``[N, 3, H, W] ->`` ``stripes`` branches, a cross-entropy each."""

    def __init__(self, backbone: ResNetBackbone, num_classes: int, stripes: int = 6) -> None:
        super().__init__(backbone, num_classes)
        if stripes < 1:
            raise ValueError(f"pcb_stripes={stripes}: expected at least 1 stripe")
        self.stripes = stripes
        self.pool = nn.AdaptiveAvgPool2d((stripes, 1))
        self.heads = PartHeads(stripes, backbone.stage_channels["stage4"], num_classes)
        self.embedding_dim = stripes * backbone.stage_channels["stage4"]

    def outputs(self, f4: Tensor) -> BranchOutput:
        if f4.shape[2] < self.stripes:
            raise ValueError(
                f"pcb_stripes={self.stripes}: the stage4 map has {f4.shape[2]} rows; expected at "
                f"least one per stripe"
            )
        stripes = self.pool(f4).squeeze(3).transpose(1, 2)
        _, logits = self.heads(stripes)
        g = F.normalize(stripes, dim=2).flatten(1)
        return BranchOutput(logits=logits, triplet=g[:, None], embedding=g)
