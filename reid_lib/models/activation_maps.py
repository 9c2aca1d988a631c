"""Activation maps of the backbone stages, and how widely a map spreads over the image.

The paper (Fig. 8) compares stage1-stage3 "activation maps" of PCB and of its model but does not
define the map. Our choice is the common one of Zagoruyko & Komodakis (ICLR 2017, attention
transfer) and Zheng et al. (CVPR 2019, pyramidal ReID): at each position, the mean over channels of
the squared activations, min-max normalised per image to [0, 1].
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from reid_lib.models.comparison import ComparisonModel
from reid_lib.models.reid_model import ReIDModel

DEFAULT_STAGES = ("stage1", "stage2", "stage3")


def activation_map(features: Tensor) -> Tensor:
    """``[N, C, h, w] -> [N, h, w]``: channel mean of squared activations, min-max per image.

    Each image's map spans [0, 1]: its strongest position is 1 and its weakest 0. A map that is
    the same at every position has nothing that stands out and becomes all zeros (our choice).

    Raises:
        ValueError: ``features`` is not a 4-d ``[N, C, h, w]`` tensor.
    """
    if features.dim() != 4:
        raise ValueError(f"features: expected [N, C, h, w], got shape {tuple(features.shape)}")
    energy = features.pow(2).mean(dim=1)
    low = energy.amin(dim=(1, 2), keepdim=True)
    span = energy.amax(dim=(1, 2), keepdim=True) - low
    # where span is 0 every position equals low, so dividing by 1 gives 0
    return (energy - low) / torch.where(span > 0, span, torch.ones_like(span))


def activation_maps(
    model: ReIDModel | ComparisonModel, images: Tensor, stages: Sequence[str] = DEFAULT_STAGES
) -> dict[str, Tensor]:
    """``[N, 3, H, W] -> {stage: [N, h, w]}``: the :func:`activation_map` of each stage.

    The maps are those of the model's ``stage_maps`` (for the paper's model, stage1 and stage2 after
    their non-local blocks when it has them; the comparison models have none), computed in eval
    mode without gradients; the model's mode is restored afterwards. ``images`` must be on the
    model's device.

    Raises:
        ValueError: a stage the backbone does not have (the message lists the valid ones).
    """
    valid = list(model.backbone.stage_channels)
    unknown = [s for s in stages if s not in valid]
    if unknown:
        raise ValueError(f"stages: unknown stage(s) {unknown}; expected some of {valid}")
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            maps = model.stage_maps(images)
    finally:
        model.train(was_training)
    return {s: activation_map(maps[s]) for s in stages}


def attention_spread(maps: Tensor, threshold: float = 0.5) -> Tensor:
    """``[N, h, w] -> [N]``: the fraction of each map's positions at or above ``threshold``.

    On maps from :func:`activation_map` (values in [0, 1]), a small spread means the map fires
    on a few spots; a large one, that it covers much of the image. Our summary, not the paper's:
    it says how wide a map is, not whether it covers the person or the background.

    Raises:
        ValueError: ``maps`` is not ``[N, h, w]``, or ``threshold`` is outside (0, 1].
    """
    if maps.dim() != 3:
        raise ValueError(f"maps: expected [N, h, w], got shape {tuple(maps.shape)}")
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold={threshold}: expected a value in (0, 1]")
    return (maps >= threshold).flatten(1).float().mean(dim=1)
