"""Cross-entropy with label smoothing (Szegedy et al., 2016).

Spec: epsilon 0.1. The target distribution is ``(1 - eps) * onehot(y) + eps / K`` over ``K``
classes, and the loss is its cross-entropy with ``softmax(logits)``, averaged over the batch.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor


def check_targets(targets: Tensor, batch_size: int) -> None:
    """Raise ``ValueError`` unless ``targets`` is an integer tensor ``[batch_size]``."""
    if targets.dim() != 1 or targets.shape[0] != batch_size or targets.is_floating_point():
        raise ValueError(
            f"targets: expected an integer tensor [{batch_size}], got {targets.dtype} "
            f"of shape {tuple(targets.shape)}"
        )


def label_smoothed_cross_entropy(logits: Tensor, targets: Tensor, epsilon: float = 0.1) -> Tensor:
    """``[N, K] logits, [N] labels in 0..K-1 -> scalar``: mean label-smoothed cross-entropy."""
    if logits.dim() != 2:
        raise ValueError(f"logits: expected [N, K], got shape {tuple(logits.shape)}")
    check_targets(targets, logits.shape[0])
    if targets.numel() and (targets.min() < 0 or targets.max() >= logits.shape[1]):
        raise ValueError(
            f"targets: expected labels in 0..{logits.shape[1] - 1} (the classifier's K), got "
            f"{int(targets.min())}..{int(targets.max())}"
        )
    if not 0.0 <= epsilon < 1.0:
        raise ValueError(f"epsilon={epsilon}: expected 0 <= epsilon < 1")
    return F.cross_entropy(logits, targets, label_smoothing=epsilon)
