"""LOMO, the Local Maximal Occurrence descriptor (Liao et al., CVPR 2015): a hand-crafted feature.

Not from the paper: with XQDA (:mod:`reid_lib.models.xqda`) it is the classic non-deep baseline
the CPU track shows beside its trained models (Liao et al. report 40.0 Rank-1 on VIPeR).

What Liao et al. describe, and we follow:

- colour: a joint HSV histogram of 8x8x8 bins of the image after multi-scale Retinex (Gaussian
  scales 5 and 20); texture: two SILTP histograms (scale-invariant local ternary patterns with
  ``tau = 0.3``, four neighbours at radius 3 and at radius 5, 81 codes each) of the grey image
  (MATLAB's ``rgb2gray``, in their code);
- each histogram is taken over 10x10 patches with a stride of 5; of the patches at one height,
  each bin keeps its maximum (the local maximal occurrence, robust to a change of viewpoint);
- the same again on the image shrunk twice by 2x2 average pooling (three scales); in their code
  the colour step pools each channel's HSV level (the floor of the 2x2 mean), not the image, and
  so do we (:func:`hsv_level_pyramid`);
- ``log(1 + count)``, then each of the three histograms' concatenations is L2-normalised.

Our choices:

- the Retinex is multi-scale Retinex with chromaticity preservation (MSRCP; Petro, Sbert and
  Morel, IPOL 2014): the Retinex of the intensity alone sets each pixel's brightness, and hue and
  saturation stay the image's own. Liao et al. cite Jobson et al.'s Retinex with colour
  restoration (MSRCR); their package ships its Retinex as compiled MEX files only (its README:
  they may not release the source), so its exact form cannot be read.
  ``benchmarks.lomo_variants`` measures the forms on VIPeR: MSRCR and our first form (each
  channel's Retinex, stretched together), which both shift colours, score well below it, and no
  Retinex at all a little below;
- images keep the loader's size (128x64 on the CPU track; Liao et al. use 128x48).

Shapes: ``[N, 3, H, W] -> [N, D]`` with ``D = rows * (512 + 2 * 81)`` summed over scales (26,960
at 128 pixels high).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from reid_lib.data.transforms import IMAGENET_MEAN, IMAGENET_STD
from reid_lib.models.backbone import check_images
from reid_lib.models.colour_histogram import joint_index, quantise, rgb_to_hsv

HSV_BINS = 8
#: The levels of H, S and V (one joint histogram of HSV_BINS**3 bins).
HSV_LEVELS = (HSV_BINS,) * 3
RETINEX_SIGMAS = (5.0, 20.0)
SILTP_RADII = (3, 5)
#: MATLAB's ``rgb2gray``: the luma weights of R, G and B (ITU-R BT.601).
RGB2GRAY_WEIGHTS = (0.2989, 0.5870, 0.1140)
SILTP_TAU = 0.3
SILTP_CODES = 3**4
#: Patches of PATCH x PATCH pixels every STRIDE pixels (PATCH is two strides: see max_occurrence).
STRIDE = 5
PATCH = 2 * STRIDE
SCALES = 3


def gaussian_blur(images: Tensor, sigma: float, truncate: float = 3.0) -> Tensor:
    """``[N, C, H, W]`` blurred by a separable Gaussian of ``sigma`` pixels, cut ``truncate``
    sigmas from its centre (edges replicated; MATLAB's ``imgaussfilt`` cuts at 2)."""
    radius = math.ceil(truncate * sigma)
    x = torch.arange(-radius, radius + 1, dtype=images.dtype, device=images.device)
    kernel = torch.exp(-(x**2) / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    channels = images.shape[1]
    rows = kernel.view(1, 1, -1, 1).repeat(channels, 1, 1, 1)
    cols = kernel.view(1, 1, 1, -1).repeat(channels, 1, 1, 1)
    out = F.conv2d(F.pad(images, (0, 0, radius, radius), mode="replicate"), rows, groups=channels)
    return F.conv2d(F.pad(out, (radius, radius, 0, 0), mode="replicate"), cols, groups=channels)


def stretch(images: Tensor, per_channel: bool = False) -> Tensor:
    """``[N, C, H, W]`` -> each image stretched to [0, 1] between the 1st and 99th percentile of
    all its values, every channel together (ours), or of each channel's alone (``per_channel``,
    which ``benchmarks.lomo_variants`` measures); a flat image or channel maps to 0."""
    flat = images.flatten(2 if per_channel else 1)
    shape = (*flat.shape[:-1], *(1,) * (images.dim() - flat.dim() + 1))
    low = flat.quantile(0.01, dim=-1).view(shape)
    high = flat.quantile(0.99, dim=-1).view(shape)
    return ((images - low) / (high - low).clamp_min(1e-6)).clamp(0, 1)


def multi_scale_retinex(
    intensity: Tensor, sigmas: Sequence[float] = RETINEX_SIGMAS, truncate: float = 3.0
) -> Tensor:
    """``[N, C, H, W]`` positive intensities -> the mean over ``sigmas`` of
    ``log(I) - log(G_sigma * I)``, channel by channel, not stretched (:func:`gaussian_blur` for
    ``truncate``)."""
    log = intensity.log()
    return torch.stack([log - gaussian_blur(intensity, s, truncate).log() for s in sigmas]).mean(0)


def retinex(rgb: Tensor, sigmas: Sequence[float] = RETINEX_SIGMAS, truncate: float = 3.0) -> Tensor:
    """``[N, 3, H, W]`` RGB in [0, 1] -> MSRCP in [0, 1] (the module docstring): the
    :func:`multi_scale_retinex` of the intensity (the mean of R, G and B), :func:`stretch`-ed per
    image, becomes each pixel's intensity by scaling its three channels by one factor, capped so
    that none exceeds 1."""
    intensity = rgb.mean(1, keepdim=True)
    target = stretch(multi_scale_retinex(intensity * 255 + 1, sigmas, truncate))
    ceiling = 1 / rgb.amax(1, keepdim=True).clamp_min(1e-6)
    return rgb * torch.minimum(ceiling, target / intensity.clamp_min(1e-6))


def hsv_level_pyramid(colour_image: Tensor, pool_levels: bool = True) -> list[Tensor]:
    """``[N, 3, H, W]`` RGB in [0, 1] -> ``SCALES`` tensors ``[N, 3, H / 2**s, W / 2**s]`` of HSV
    levels in ``[0, HSV_BINS)``.

    As Liao et al.'s code (its ``ColorPooling``), the image is quantised once and each lower
    scale is the floor of the 2x2 mean of each channel's level; ``pool_levels=False`` averages the
    colour image itself and quantises it again (our first form, which
    ``benchmarks.lomo_variants`` measures)."""
    levels = [quantise(rgb_to_hsv(colour_image), HSV_LEVELS)]
    for _ in range(1, SCALES):
        if pool_levels:
            levels.append(F.avg_pool2d(levels[-1].float(), 2).floor().long())
        else:
            colour_image = F.avg_pool2d(colour_image, 2)
            levels.append(quantise(rgb_to_hsv(colour_image), HSV_LEVELS))
    return levels


def siltp_codes(grey: Tensor, radius: int, tau: float = SILTP_TAU) -> Tensor:
    """``[N, H, W]`` grey levels -> ``[N, H, W]`` SILTP codes in ``[0, 81)``.

    Each of the four neighbours at ``radius`` (right, down, left, up; edges replicated) gives a
    ternary digit: 1 above ``(1 + tau)`` times the centre, 2 below ``(1 - tau)`` times it, else 0.
    """
    padded = F.pad(grey[:, None], (radius,) * 4, mode="replicate")[:, 0]
    height, width = grey.shape[1:]
    code = torch.zeros_like(grey, dtype=torch.long)
    offsets = ((radius, 2 * radius), (2 * radius, radius), (radius, 0), (0, radius))
    for digit, (top, left) in enumerate(offsets):
        neighbour = padded[:, top : top + height, left : left + width]
        ternary = (neighbour > (1 + tau) * grey).long() + 2 * (neighbour < (1 - tau) * grey)
        code = code + ternary * 3**digit
    return code


def patches_along(length: int) -> int:
    """How many ``PATCH``-pixel patches, every ``STRIDE`` pixels, fit along ``length`` pixels."""
    return (length - PATCH) // STRIDE + 1


def max_occurrence(codes: Tensor, bins: int) -> Tensor:
    """``[N, H, W]`` codes -> ``[N, rows, bins]``: each bin's count in every ``PATCH`` x
    ``PATCH`` patch (stride ``STRIDE``), its maximum over the patches of one row.

    A patch is 2x2 cells of ``STRIDE`` x ``STRIDE`` pixels, so the counts are taken once per cell
    and summed four at a time."""
    n, height, width = codes.shape
    rows, cols = patches_along(height), patches_along(width)
    cells_y, cells_x = rows + 1, cols + 1
    codes = codes[:, : cells_y * STRIDE, : cells_x * STRIDE]
    cell_row = torch.arange(cells_y * STRIDE, device=codes.device) // STRIDE
    cell_col = torch.arange(cells_x * STRIDE, device=codes.device) // STRIDE
    cell = cell_row[:, None] * cells_x + cell_col[None, :]
    index = (cell * bins + codes).flatten(1)
    counts = torch.zeros(n, cells_y * cells_x * bins, device=codes.device)
    counts.scatter_add_(1, index, torch.ones_like(index, dtype=counts.dtype))
    counts = counts.view(n, cells_y, cells_x, bins)
    patches = counts[:, :-1, :-1] + counts[:, 1:, :-1] + counts[:, :-1, 1:] + counts[:, 1:, 1:]
    return patches.amax(dim=2)


class LOMO(nn.Module):
    """``[N, 3, H, W]`` normalised images -> ``[N, D]`` LOMO descriptors (see the module
    docstring; ``H`` and ``W`` at least ``PATCH * 2**(SCALES - 1)``).

    Args:
        mean, std: the normalisation the loader applied (undone first).
    """

    #: Each of the three parts is L2-normalised already; the whole is compared as it is.
    l2_normalise = False

    def __init__(
        self, mean: Sequence[float] = IMAGENET_MEAN, std: Sequence[float] = IMAGENET_STD
    ) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)

    @staticmethod
    def dim(height: int) -> int:
        """The descriptor length for images ``height`` pixels high."""
        rows = sum(patches_along(height // 2**s) for s in range(SCALES))
        return rows * (HSV_BINS**3 + len(SILTP_RADII) * SILTP_CODES)

    def forward(self, images: Tensor) -> Tensor:
        check_images(images)
        smallest = PATCH * 2 ** (SCALES - 1)
        if min(images.shape[2:]) < smallest:
            raise ValueError(
                f"LOMO needs images at least {smallest}x{smallest} pixels; got "
                f"{tuple(images.shape[2:])}"
            )
        return lomo_descriptor(self.rgb(images))

    def rgb(self, images: Tensor) -> Tensor:
        """``[N, 3, H, W]`` normalised images -> RGB in [0, 1] (normalisation undone)."""
        return (images.float() * self.std + self.mean).clamp(0, 1)


def luma_grey(rgb: Tensor) -> Tensor:
    """``[N, 3, H, W]`` RGB in [0, 1] -> ``[N, 1, H, W]`` grey levels in [0, 255] by MATLAB's
    ``rgb2gray`` weights, as Liao et al.'s code computes SILTP's grey image."""
    weights = torch.tensor(RGB2GRAY_WEIGHTS, dtype=rgb.dtype, device=rgb.device)
    return (rgb * weights.view(1, 3, 1, 1)).sum(1, keepdim=True) * 255


def lomo_descriptor(
    rgb: Tensor,
    colour: Callable[[Tensor], Tensor] = retinex,
    grey: Callable[[Tensor], Tensor] = luma_grey,
    pool_levels: bool = True,
) -> Tensor:
    """``[N, 3, H, W]`` RGB in [0, 1] -> ``[N, D]`` LOMO descriptors (the module docstring),
    with the colour image made by ``colour``, the grey image by ``grey`` and the lower scales'
    colour by :func:`hsv_level_pyramid` (``pool_levels``): the defaults are the library's;
    ``benchmarks.lomo_variants`` passes the alternatives it measures."""
    grey_image = grey(rgb)
    pyramid = hsv_level_pyramid(colour(rgb), pool_levels)
    groups: list[list[Tensor]] = [[] for _ in range(1 + len(SILTP_RADII))]
    for scale, levels in enumerate(pyramid):
        if scale:
            grey_image = F.avg_pool2d(grey_image, 2)
        groups[0].append(max_occurrence(joint_index(levels, HSV_LEVELS), HSV_BINS**3))
        for i, radius in enumerate(SILTP_RADII, start=1):
            groups[i].append(max_occurrence(siltp_codes(grey_image[:, 0], radius), SILTP_CODES))
    parts = [F.normalize(torch.cat(g, dim=1).flatten(1).log1p(), dim=1) for g in groups]
    return torch.cat(parts, dim=1)
