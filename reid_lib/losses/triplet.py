"""Batch-hard triplet loss (Hermans et al., 2017).

For each anchor in the batch: the hardest positive (farthest sample of its identity) and the hardest
negative (closest sample of another identity), by Euclidean distance between the raw features.
Spec: margin 0.3, ``max(0, d_ap - d_an + margin)``; option: the soft margin,
``log(1 + exp(d_ap - d_an))``.
Ours: anchors without another identity in the batch are an error (a P x K sampler never makes them);
an anchor with no other image of its identity takes ``d_ap = 0`` (its distance to itself). Distances
and the loss are computed in float32 whatever the autocast state: in bf16, the Gram form
``|a|^2 + |b|^2 - 2 a.b`` of 2048-d features loses more than the margin, and in fp16 its diagonal
can overflow. The identity check reads the labels, so it runs here only for labels on the CPU
(the trainer checks each batch on the CPU, ``check_identities``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from reid_lib.losses.cross_entropy import check_targets


def pairwise_distances(features: Tensor) -> Tensor:
    """``[N, D] -> [N, N]`` float32 Euclidean distances (clamped away from 0 for a finite
    gradient), whatever the autocast state."""
    with torch.autocast(features.device.type, enabled=False):
        features = features.float()
        squared = features.pow(2).sum(dim=1)
        d2 = squared[:, None] + squared[None, :] - 2.0 * features @ features.T
        return d2.clamp(min=1e-12).sqrt()


def check_identities(targets: Tensor) -> None:
    """Raise ``ValueError`` unless the batch holds at least two identities (reads the values)."""
    if (targets[:, None] == targets[None, :]).all(dim=1).any():
        raise ValueError(
            "targets: batch-hard triplet needs at least two identities in the batch, "
            f"got the labels {sorted(set(targets.tolist()))}"
        )


def batch_hard_triplet(features: Tensor, targets: Tensor, margin: float | None = 0.3) -> Tensor:
    """``[N, D] features, [N] labels -> scalar``: the mean batch-hard triplet loss.

    Args:
        features: one feature per image.
        targets: identity labels.
        margin: the margin; ``None`` for the soft margin.
    """
    if features.dim() != 2:
        raise ValueError(f"features: expected [N, D], got shape {tuple(features.shape)}")
    check_targets(targets, features.shape[0])
    if targets.device.type == "cpu":
        check_identities(targets)
    same = targets[:, None] == targets[None, :]
    dist = pairwise_distances(features)
    with torch.autocast(features.device.type, enabled=False):
        hardest_positive = dist.masked_fill(~same, float("-inf")).amax(dim=1)
        hardest_negative = dist.masked_fill(same, float("inf")).amin(dim=1)
        gap = hardest_positive - hardest_negative
        if margin is None:
            return F.softplus(gap).mean()
        return torch.relu(gap + margin).mean()
