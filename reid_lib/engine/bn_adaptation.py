"""AdaBN: a trained model's batch-norm statistics re-estimated on the images of the set it is
tested on (Li et al., "Revisiting Batch Normalization For Practical Domain Adaptation", ICLR
workshop 2017). No label is used and no weight changes; only each BN layer's running mean and
variance become those of the new images.

Ours: the images are the test set's training split, read with the test transforms, so the test
images themselves are never looked at. The rest of the model stays in eval mode (dropout off), which
is why this does not use ``torch.optim.swa_utils.update_bn``: that puts the whole model in train
mode. The *Datasets* chapter uses it to ask whether joint training's mixed-set statistics are what
costs it accuracy.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

import torch
from torch import nn


@torch.no_grad()
def adapt_batch_norm(
    model: nn.Module, images: Iterable[torch.Tensor], device: torch.device
) -> nn.Module:
    """A copy of ``model`` (``model`` itself is left as it was) whose BN layers hold the mean and
    variance of their inputs over ``images`` (batches ``[B, 3, H, W]``), averaged over all of
    them; the copy is in eval mode.

    Raises:
        ValueError: ``images`` holds no batch.
    """
    adapted = copy.deepcopy(model).eval()
    norms = [m for m in adapted.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = [norm.momentum for norm in norms]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # a cumulative average over the batches
        norm.train()
    seen = 0
    for batch in images:
        adapted(batch.to(device))
        seen += 1
    if not seen:
        raise ValueError("adapt_batch_norm: no images to estimate the statistics from")
    for norm, momentum in zip(norms, momenta, strict=True):
        norm.momentum = momentum
    return adapted.eval()
