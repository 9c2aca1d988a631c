"""The loss of the comparison models, on their :class:`~reid_lib.models.outputs.BranchOutput`.

Each source paper trains a cross-entropy on every classifier branch, and the global ResNet (Bag
of Tricks) and HPM add a batch-hard triplet loss::

    L = w_ce * mean over branches b of CE(logits_b) + w_tri * mean over features t of Tri(f_t)

Ours: the cross-entropies are averaged over the branches (PCB and HPM sum them; with Adam only
the balance against the triplet term changes), and the smoothing, margin and weights are the
config's, as for the paper's model, so that the models are compared under one recipe. The terms
reported are ``ce_branches`` and, when the model has triplet features, ``tri_branches``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from reid_lib.losses.cross_entropy import label_smoothed_cross_entropy
from reid_lib.losses.triplet import batch_hard_triplet
from reid_lib.losses.weighted_terms import LossOutput, WeightedTermLoss
from reid_lib.models.outputs import BranchOutput

BRANCH_WEIGHTS = {"ce": 1.0, "tri": 1.0}


class BranchLoss(WeightedTermLoss):
    """``(BranchOutput, targets [N]) -> LossOutput``.

    Args:
        epsilon: label smoothing of every cross-entropy.
        margin: triplet margin; ``None`` for the soft margin.
        weights: overrides of :data:`BRANCH_WEIGHTS`: ``"ce"`` and ``"tri"``.
    """

    default_weights = BRANCH_WEIGHTS

    def forward(self, output: BranchOutput, targets: Tensor) -> LossOutput:
        per_branch = [
            label_smoothed_cross_entropy(logits, targets, self.epsilon)
            for logits in output.logits.unbind(dim=1)
        ]
        terms = {"ce_branches": torch.stack(per_branch).mean()}
        total = self.weights["ce"] * terms["ce_branches"]
        if output.triplet.shape[1]:
            per_feature = [
                batch_hard_triplet(features, targets, self.margin)
                for features in output.triplet.unbind(dim=1)
            ]
            terms["tri_branches"] = torch.stack(per_feature).mean()
            total = total + self.weights["tri"] * terms["tri_branches"]
        return LossOutput(total=total, terms=terms)
