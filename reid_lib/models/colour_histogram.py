"""A floor that needs no learning: colour histograms over horizontal stripes.

Not from the paper. It answers "what does training buy?": every trained number in the book is
shown beside this descriptor, computed under the same protocols by the same evaluation code. The
descriptor (ours, in the tradition of the ELF and LOMO hand-crafted features): the image is cut
into ``stripes`` horizontal stripes; each stripe gets a joint HSV histogram and a joint RGB
histogram of ``bins`` = (8, 4, 4) bins, each normalised to sum 1 and square-rooted (so each has
unit L2 norm, and the L2 distance between two is the Hellinger distance); the stripes' histograms
are concatenated.

It is an ``nn.Module`` with no parameters that takes the test loader's normalised images, so
``reid_lib.metrics.extract_features`` and ``reid_lib.engine.evaluation`` use it as they use a
trained model. Shapes: ``[N, 3, H, W] -> [N, stripes * 2 * prod(bins)]``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from reid_lib.data.transforms import IMAGENET_MEAN, IMAGENET_STD
from reid_lib.models.backbone import check_images

STRIPES = 6
BINS = (8, 4, 4)


def rgb_to_hsv(rgb: Tensor) -> Tensor:
    """``[N, 3, H, W]`` RGB in [0, 1] -> HSV in [0, 1] (hue as a fraction of the circle)."""
    high, argmax = rgb.max(dim=1)
    low = rgb.min(dim=1).values
    delta = high - low
    safe = torch.where(delta > 0, delta, torch.ones_like(delta))
    r, g, b = rgb.unbind(dim=1)
    hue = torch.stack(((g - b) / safe, 2 + (b - r) / safe, 4 + (r - g) / safe), dim=1)
    hue = hue.gather(1, argmax[:, None]).squeeze(1)
    hue = torch.where(delta > 0, (hue / 6) % 1.0, torch.zeros_like(hue))
    saturation = torch.where(high > 0, delta / torch.where(high > 0, high, 1), 0)
    return torch.stack((hue, saturation, high), dim=1)


def quantise(values: Tensor, bins: Sequence[int]) -> Tensor:
    """``[N, C, H, W]`` values in [0, 1] -> ``[N, C, H, W]`` levels: channel ``c`` as
    ``min(floor(value * bins[c]), bins[c] - 1)``."""
    counts = torch.tensor(bins, device=values.device).view(1, -1, 1, 1)
    return torch.minimum((values * counts).long(), counts - 1)


def joint_index(levels: Tensor, bins: Sequence[int]) -> Tensor:
    """``[N, C, H, W]`` levels (:func:`quantise`) -> ``[N, H, W]`` joint bin index in
    ``[0, prod(bins))``, the first channel the most significant."""
    index = torch.zeros_like(levels[:, 0])
    for channel, count in enumerate(bins):
        index = index * count + levels[:, channel]
    return index


def joint_bin_index(values: Tensor, bins: Sequence[int]) -> Tensor:
    """``[N, C, H, W]`` values in [0, 1] -> ``[N, H, W]`` joint bin index in ``[0, prod(bins))``:
    each channel :func:`quantise`-d, then :func:`joint_index`."""
    return joint_index(quantise(values, bins), bins)


def joint_histogram(values: Tensor, bins: Sequence[int], stripes: int) -> Tensor:
    """``[N, 3, H, W]`` values in [0, 1] -> ``[N, stripes, prod(bins)]`` normalised histograms.

    Stripe ``s`` holds rows ``s * H // stripes`` up to ``(s + 1) * H // stripes``.
    """
    n, _, height, _ = values.shape
    index = joint_bin_index(values, bins)
    row_stripe = torch.arange(height, device=values.device) * stripes // height
    index = index + (row_stripe[None, :, None] * math.prod(bins))
    size = stripes * math.prod(bins)
    counts = torch.zeros(n, size, device=values.device)
    counts.scatter_add_(1, index.flatten(1), torch.ones_like(index.flatten(1), dtype=counts.dtype))
    counts = counts.view(n, stripes, math.prod(bins))
    return counts / counts.sum(dim=2, keepdim=True)


class ColourHistogram(nn.Module):
    """``[N, 3, H, W]`` normalised images -> ``[N, stripes * 2 * prod(bins)]`` descriptors.

    Args:
        stripes: horizontal stripes (at most the image height).
        bins: bins of each channel, for both the HSV and the RGB histogram.
        mean, std: the normalisation the loader applied (undone before binning).
    """

    def __init__(
        self,
        stripes: int = STRIPES,
        bins: Sequence[int] = BINS,
        mean: Sequence[float] = IMAGENET_MEAN,
        std: Sequence[float] = IMAGENET_STD,
    ) -> None:
        super().__init__()
        if stripes < 1 or len(bins) != 3 or min(bins) < 1:
            raise ValueError(
                f"stripes={stripes}, bins={tuple(bins)}: expected stripes >= 1 and three bin "
                "counts >= 1"
            )
        self.stripes = stripes
        self.bins = tuple(bins)
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)
        self.embedding_dim = stripes * 2 * math.prod(self.bins)

    def forward(self, images: Tensor) -> Tensor:
        check_images(images)
        rgb = (images.float() * self.std + self.mean).clamp(0, 1)
        histograms = [
            joint_histogram(space, self.bins, self.stripes) for space in (rgb_to_hsv(rgb), rgb)
        ]
        return torch.cat(histograms, dim=2).sqrt().flatten(1)
