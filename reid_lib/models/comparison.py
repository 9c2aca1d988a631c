"""What the three comparison models share: a last-stride-1 ResNet, the backbone's stage maps, and
the train/eval contract of the paper's model.

The paper compares its model with a global ResNet-50, PCB and HPM (its Fig. 9 shows their ranked
lists, its Fig. 8 the activation maps of PCB and its own). Train mode returns a
:class:`~reid_lib.models.outputs.BranchOutput` for ``reid_lib.losses.BranchLoss``; eval mode the
L2-normalised test feature ``[N, embedding_dim]``, as :class:`~reid_lib.models.ReIDModel` does.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from reid_lib.models.backbone import ResNetBackbone
from reid_lib.models.outputs import BranchOutput


class ComparisonModel(nn.Module):
    """A backbone and a head on its stage4 map; subclasses define :meth:`outputs`.

    Attributes:
        embedding_dim: ``E`` of the eval-mode output ``[N, E]``.
    """

    embedding_dim: int

    def __init__(self, backbone: ResNetBackbone, num_classes: int) -> None:
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"num_classes={num_classes}: expected a positive number of identities")
        self.backbone = backbone

    def stage_maps(self, images: Tensor) -> dict[str, Tensor]:
        """``[N, 3, H, W] -> {"stage1": ..., "stage4": ...}`` (for the activation maps)."""
        return self.backbone.stage_maps(images)

    def outputs(self, f4: Tensor) -> BranchOutput:
        """``[N, C4, h, w] -> BranchOutput`` on the stage4 map."""
        raise NotImplementedError

    def forward(self, images: Tensor) -> BranchOutput | Tensor:
        """Train mode: :class:`BranchOutput`; eval mode: the embedding ``[N, embedding_dim]``."""
        output = self.outputs(self.stage_maps(images)["stage4"])
        return output if self.training else F.normalize(output.embedding)
