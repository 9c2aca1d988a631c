"""Cross-entropy with label smoothing (Szegedy et al., 2016).

Spec: epsilon 0.1. The target distribution is ``(1 - eps) * onehot(y) + eps / K`` over ``K``
classes, and the loss is its cross-entropy with ``softmax(logits)``, averaged over the batch.

Ours: the loss is computed in float32 whatever the autocast state (a bf16 or fp16 log-softmax over
thousands of classes loses the small differences the smoothing makes). Checks of the labels'
values read the tensor, which on a GPU waits for the device, so they run here only for labels on
the CPU; the trainer checks each batch's labels on the CPU before moving them (``check_labels``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def check_targets(targets: Tensor, batch_size: int) -> None:
    """Raise ``ValueError`` unless ``targets`` is an integer tensor ``[batch_size]`` (shape and
    dtype only: no value is read)."""
    if targets.dim() != 1 or targets.shape[0] != batch_size or targets.is_floating_point():
        raise ValueError(
            f"targets: expected an integer tensor [{batch_size}], got {targets.dtype} "
            f"of shape {tuple(targets.shape)}"
        )


def check_labels(targets: Tensor, num_classes: int) -> None:
    """Raise ``ValueError`` unless every label lies in ``0..num_classes - 1`` (reads the values)."""
    if targets.numel() and (targets.min() < 0 or targets.max() >= num_classes):
        raise ValueError(
            f"targets: expected labels in 0..{num_classes - 1} (the classifier's K), got "
            f"{int(targets.min())}..{int(targets.max())}"
        )


def label_smoothed_cross_entropy(
    logits: Tensor, targets: Tensor, epsilon: float = 0.1, class_groups: Tensor | None = None
) -> Tensor:
    """``[N, K] logits, [N] labels in 0..K-1 -> scalar``: mean label-smoothed cross-entropy.

    ``class_groups`` (``[K]``, each class's group) confines each image's softmax, and its
    smoothing, to the classes of its own label's group: a per-set softmax when several sets train
    together (ours; Xiao et al. use one softmax over the union). ``None``: every class."""
    if logits.dim() != 2:
        raise ValueError(f"logits: expected [N, K], got shape {tuple(logits.shape)}")
    check_targets(targets, logits.shape[0])
    if targets.device.type == "cpu":
        check_labels(targets, logits.shape[1])
    if not 0.0 <= epsilon < 1.0:
        raise ValueError(f"epsilon={epsilon}: expected 0 <= epsilon < 1")
    with torch.autocast(logits.device.type, enabled=False):
        if class_groups is None:
            return F.cross_entropy(logits.float(), targets, label_smoothing=epsilon)
        own = class_groups[None, :] == class_groups[targets][:, None]
        log_p = logits.float().masked_fill(~own, float("-inf")).log_softmax(dim=1)
        nll = -log_p.gather(1, targets[:, None]).squeeze(1)
        smoothing = -log_p.masked_fill(~own, 0.0).sum(dim=1) / own.sum(dim=1)
        return ((1 - epsilon) * nll + epsilon * smoothing).mean()
