"""What the combined losses share: their output, and a weight for each kind of term.

A combined loss (the paper model's :class:`~reid_lib.losses.ReIDLoss`, the comparison models'
:class:`~reid_lib.losses.BranchLoss`) sums terms of a few kinds, each kind scaled by its weight,
and reports every term unweighted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from torch import Tensor, nn

from reid_lib.losses.cross_entropy import label_smoothed_cross_entropy


@dataclass
class LossOutput:
    """``total``: the weighted sum, a scalar to back-propagate; ``terms``: each unweighted term."""

    total: Tensor
    terms: dict[str, Tensor]


class WeightedTermLoss(nn.Module):
    """Label smoothing, triplet margin and per-kind weights, checked against ``default_weights``.

    Args:
        epsilon: label smoothing of every cross-entropy.
        margin: triplet margin; ``None`` for the soft margin.
        weights: overrides of the subclass's ``default_weights``, by term kind.
        class_groups: ``[K]``, each class's group (its training set): every cross-entropy's
            softmax spans only its label's group (``label_smoothed_cross_entropy``); ``None``,
            the default, spans every class.

    Raises:
        ValueError: a weight for a kind the loss does not have (the message lists the kinds).
    """

    default_weights: ClassVar[dict[str, float]]

    def __init__(
        self,
        *,
        epsilon: float = 0.1,
        margin: float | None = 0.3,
        weights: Mapping[str, float] | None = None,
        class_groups: Tensor | None = None,
    ) -> None:
        super().__init__()
        unknown = set(weights or {}) - set(self.default_weights)
        if unknown:
            raise ValueError(
                f"weights: unknown term kinds {sorted(unknown)}; "
                f"expected {list(self.default_weights)}"
            )
        self.epsilon = epsilon
        self.margin = margin
        self.weights = {**self.default_weights, **(weights or {})}
        self.class_groups: Tensor | None
        self.register_buffer("class_groups", class_groups, persistent=False)

    def cross_entropy(self, logits: Tensor, targets: Tensor) -> Tensor:
        """The label-smoothed cross-entropy of one head, over its label's group of classes."""
        return label_smoothed_cross_entropy(logits, targets, self.epsilon, self.class_groups)
