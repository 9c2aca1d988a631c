"""What the model returns in train mode: every logit and feature the loss (and the book) needs.

``N`` is the batch size, ``K`` the number of training identities, ``P`` the number of parts.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor


@dataclass
class StageOutput:
    """One stage head (stage3 or stage4) on a ``[N, C, H, W]`` map.

    Attributes:
        avg: ``a``, global average pool, ``[N, C]`` (triplet loss).
        max: ``m``, global max pool, ``[N, C]`` (triplet loss).
        neck: ``BN(a + m)``, ``[N, C]`` (the test feature).
        logits: classifier on ``neck``, ``[N, K]`` (cross-entropy).
    """

    avg: Tensor
    max: Tensor
    neck: Tensor
    logits: Tensor


@dataclass
class GlobalOutput:
    """The MSG head on the map ``G``.

    Attributes:
        feature: global average pool of ``G``, ``[N, C]``.
        neck: ``BN(feature)``, ``[N, C]``.
        logits: classifier on ``neck``, ``[N, K]``.
    """

    feature: Tensor
    neck: Tensor
    logits: Tensor


@dataclass
class PartOutput:
    """The WDP branch and its part heads.

    Attributes:
        fused: fused parts ``f_i``, ``[N, P, C]``.
        weights: fusion weights ``(a_i, b_i)``, ``[N, P, 2]``.
        embeddings: each part head's reduced feature after its BatchNorm, ``[N, P, 256]``.
        logits: each part head's classifier, ``[N, P, K]``.
    """

    fused: Tensor
    weights: Tensor
    embeddings: Tensor
    logits: Tensor


@dataclass
class ModelOutput:
    """Train-mode output of :class:`~reid_lib.models.reid_model.ReIDModel`.

    Attributes:
        stages: ``{"stage3": ..., "stage4": ...}``.
        msg: the MSG head, ``None`` when the model has no MSG module.
        parts: the WDP branch, ``None`` when the model has no part branch (``wdp=False``).
    """

    stages: dict[str, StageOutput]
    msg: GlobalOutput | None
    parts: PartOutput | None


@dataclass
class BranchOutput:
    """Train-mode output of the comparison models (``reid_lib.models.comparison``).

    ``B`` is the number of classifier branches, ``T`` of triplet features (0 for PCB).

    Attributes:
        logits: each branch's classifier, ``[N, B, K]``; each gets a cross-entropy.
        triplet: the features that each get a batch-hard triplet loss, ``[N, T, D]``.
        embedding: the test feature before L2 normalisation, ``[N, E]``.
    """

    logits: Tensor
    triplet: Tensor
    embedding: Tensor
