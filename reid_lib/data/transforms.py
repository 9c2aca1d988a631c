"""Train and test image transforms on ``torchvision.transforms.v2``.

The paper states no augmentation. The training recipe is the model specification's
(``docs/model_spec.md``, that of the strong baselines): resize, random horizontal flip, pad 10 then
random crop back to size, ImageNet normalisation, random erasing with p = 0.5. Our choices where the
recipe is silent: bilinear resizing with anti-aliasing, zero (black) padding, and erased pixels set
to 0 after normalisation, i.e. to the ImageNet mean colour; erasing scale (0.02, 0.33) and ratio
(0.3, 3.3) are torchvision's defaults, the values of Zhong et al.'s random erasing.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torchvision.transforms import v2

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _check_size(size: Sequence[int]) -> tuple[int, int]:
    size = tuple(size)
    if len(size) != 2 or not all(isinstance(s, int) and s > 0 for s in size):
        raise ValueError(f"image size must be (height, width) with positive ints, got {size!r}")
    return size


def build_train_transforms(
    size: Sequence[int] = (256, 128),
    *,
    flip_p: float = 0.5,
    pad: int = 10,
    erasing_p: float = 0.5,
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
) -> v2.Compose:
    """PIL image -> FloatTensor [3, H, W]: resize, flip, pad + random crop, normalise, erase.

    Args:
        size: (height, width) of the output.
        flip_p: probability of a horizontal flip.
        pad: pixels of zero padding on each side before the random crop (0: no pad and crop).
        erasing_p: probability of random erasing (0: none).
        mean, std: normalisation per channel.
    """
    size = _check_size(size)
    steps: list[v2.Transform] = [
        v2.ToImage(),
        v2.Resize(size, antialias=True),
        v2.RandomHorizontalFlip(flip_p),
    ]
    if pad:
        steps += [v2.Pad(pad, fill=0), v2.RandomCrop(size)]
    steps += [v2.ToDtype(torch.float32, scale=True), v2.Normalize(mean, std)]
    if erasing_p:
        steps.append(v2.RandomErasing(p=erasing_p, value=0))
    return v2.Compose(steps)


def build_test_transforms(
    size: Sequence[int] = (256, 128),
    *,
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
) -> v2.Compose:
    """PIL image -> FloatTensor [3, H, W]: resize and normalise."""
    size = _check_size(size)
    return v2.Compose(
        [
            v2.ToImage(),
            v2.Resize(size, antialias=True),
            v2.ToDtype(torch.float32, scale=True),
            v2.Normalize(mean, std),
        ]
    )
