"""LOMO + XQDA (Liao et al., CVPR 2015) as one model: a hand-crafted descriptor and a metric
fitted in closed form on the training split, with no gradient step.

Not from the paper: it is the non-deep baseline the CPU track shows beside the colour-histogram
floor and the trained models (Liao et al. report 40.0 Rank-1 on VIPeR). The engine fits it on
the training split's descriptors (:meth:`LomoXqda.fit`) and then evaluates it as any model.
Shapes: ``[N, 3, H, W] -> [N, k]``, ``k`` the directions XQDA keeps.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from reid_lib.models.lomo import LOMO
from reid_lib.models.xqda import fit_xqda


class LomoXqda(nn.Module):
    """LOMO descriptors projected by XQDA; :meth:`fit` before use."""

    #: The evaluation compares the outputs as they are: XQDA's metric is the squared distance of
    #: unnormalised projections (every other model's embeddings are L2-normalised).
    l2_normalise = False

    def __init__(self) -> None:
        super().__init__()
        self.lomo = LOMO()
        self.register_buffer("projection", torch.empty(0, 0))

    def fit(self, descriptors: Tensor, pids: np.ndarray) -> None:
        """Fit XQDA on the ``[n, D]`` LOMO ``descriptors`` of training images of ``pids``."""
        self.projection = fit_xqda(descriptors, pids).to(self.projection.device)

    def forward(self, images: Tensor) -> Tensor:
        if not self.projection.numel():
            raise RuntimeError("LomoXqda is not fitted yet: call fit() on training descriptors")
        return self.lomo(images) @ self.projection
