"""The loss of the comparison models, on their :class:`~reid_lib.models.outputs.BranchOutput`.

Each source paper trains a cross-entropy on every classifier branch and sums them (PCB, HPM; IDE
and Bag of Tricks have one branch); Bag of Tricks adds a batch-hard triplet loss::

    L = w_ce * sum over branches b of CE(logits_b) + w_tri * mean over features t of Tri(f_t)

The sum, not the mean, is also what keeps the weight decay of a part model's heads where a
one-branch model's is: Adam's coupled L2 decay is added to each parameter's gradient, and a head
whose cross-entropy were divided by P would see its decay P times stronger against its loss
(decay set per head, our reading of "summed terms"; a decoupled decay would change the paper's
optimiser for its own model too). The smoothing, margin and weights are the config's, so that a
study row chooses them (``loss.label_smoothing=0`` and ``loss.weight_tri=0`` give the sources'
plain cross-entropy). The terms reported are ``ce_branches`` and, when the triplet weight is not 0
and the model has triplet features, ``tri_branches``.
"""

from __future__ import annotations

import torch
from torch import Tensor

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
        class_groups: each class's training set, for a per-set softmax (``WeightedTermLoss``).
    """

    default_weights = BRANCH_WEIGHTS

    def forward(self, output: BranchOutput, targets: Tensor) -> LossOutput:
        per_branch = [self.cross_entropy(logits, targets) for logits in output.logits.unbind(dim=1)]
        terms = {"ce_branches": torch.stack(per_branch).sum()}
        total = self.weights["ce"] * terms["ce_branches"]
        if output.triplet.shape[1] and self.weights["tri"]:
            per_feature = [
                batch_hard_triplet(features, targets, self.margin)
                for features in output.triplet.unbind(dim=1)
            ]
            terms["tri_branches"] = torch.stack(per_feature).mean()
            total = total + self.weights["tri"] * terms["tri_branches"]
        return LossOutput(total=total, terms=terms)
