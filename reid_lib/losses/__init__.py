"""Losses: label-smoothed cross-entropy, batch-hard triplet, the paper model's combined loss and
the comparison models' branch loss."""

from reid_lib.losses.branch_loss import BRANCH_WEIGHTS, BranchLoss
from reid_lib.losses.cross_entropy import label_smoothed_cross_entropy
from reid_lib.losses.reid_loss import DEFAULT_WEIGHTS, ReIDLoss
from reid_lib.losses.triplet import batch_hard_triplet, pairwise_distances
from reid_lib.losses.weighted_terms import LossOutput

__all__ = [
    "BRANCH_WEIGHTS",
    "DEFAULT_WEIGHTS",
    "BranchLoss",
    "LossOutput",
    "ReIDLoss",
    "batch_hard_triplet",
    "label_smoothed_cross_entropy",
    "pairwise_distances",
]
