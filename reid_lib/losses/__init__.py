"""Losses: label-smoothed cross-entropy, batch-hard triplet, and the combined ReID loss."""

from reid_lib.losses.cross_entropy import label_smoothed_cross_entropy
from reid_lib.losses.reid_loss import DEFAULT_WEIGHTS, LossOutput, ReIDLoss
from reid_lib.losses.triplet import batch_hard_triplet, pairwise_distances

__all__ = [
    "DEFAULT_WEIGHTS",
    "LossOutput",
    "ReIDLoss",
    "batch_hard_triplet",
    "label_smoothed_cross_entropy",
    "pairwise_distances",
]
