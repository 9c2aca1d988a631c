"""The colour-histogram floor: binning by hand, HSV against colorsys, invariances, its use as a
model by the evaluation code."""

import colorsys
import math

import pytest
import torch

from reid_lib.data.transforms import IMAGENET_MEAN, IMAGENET_STD
from reid_lib.models import build_any_model
from reid_lib.models.colour_histogram import ColourHistogram, joint_histogram, rgb_to_hsv


def normalised(rgb: torch.Tensor) -> torch.Tensor:
    mean, std = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), torch.tensor(IMAGENET_STD)
    return (rgb - mean) / std.view(1, 3, 1, 1)


def test_hsv_matches_colorsys_on_random_pixels():
    rgb = torch.rand(2, 3, 4, 5)
    hsv = rgb_to_hsv(rgb)
    for n, y, x in [(0, 0, 0), (1, 3, 4), (0, 2, 1), (1, 1, 3)]:
        expected = colorsys.rgb_to_hsv(*rgb[n, :, y, x].tolist())
        assert hsv[n, :, y, x].tolist() == pytest.approx(expected, abs=1e-6)
    grey = rgb_to_hsv(torch.full((1, 3, 1, 1), 0.5))
    assert grey.flatten().tolist() == pytest.approx([0.0, 0.0, 0.5])


def test_two_coloured_halves_fill_one_bin_per_stripe():
    # Top half pure red, bottom half pure blue; 2 stripes, 8x4x4 RGB bins.
    rgb = torch.zeros(1, 3, 4, 2)
    rgb[0, 0, :2] = 1.0
    rgb[0, 2, 2:] = 1.0
    hist = joint_histogram(rgb, (8, 4, 4), 2)
    assert hist.shape == (1, 2, 128)
    red_bin, blue_bin = 7 * 16, 3  # index = r_level * 16 + g_level * 4 + b_level
    assert hist[0, 0, red_bin] == 1 and hist[0, 1, blue_bin] == 1
    assert hist.sum(dim=2).tolist() == [[1.0, 1.0]]


def test_descriptor_shape_norm_and_invariances():
    model = ColourHistogram()
    images = normalised(torch.rand(3, 3, 128, 64))
    feats = model(images)
    assert feats.shape == (3, model.embedding_dim) == (3, 6 * 2 * 128)
    # Each of the 12 histograms is square-rooted from a distribution: unit norm each.
    assert feats.norm(dim=1).tolist() == pytest.approx([math.sqrt(12)] * 3, rel=1e-5)
    assert torch.allclose(model(images.flip(dims=[3])), feats), "a stripe ignores left/right"
    shuffled = images[:, :, :, torch.randperm(64)]
    assert torch.allclose(model(shuffled), feats), "a stripe's histogram ignores the columns"
    assert not list(model.parameters())


def test_it_is_an_arch_of_the_factory_and_bad_arguments_are_named():
    assert isinstance(build_any_model(5, arch="colour_histogram"), ColourHistogram)
    with pytest.raises(ValueError, match=r"stripes=0, bins=\(8, 4, 4\)"):
        ColourHistogram(stripes=0)
    with pytest.raises(ValueError, match=r"expected a float tensor \[N, 3, H, W\]"):
        ColourHistogram()(torch.rand(2, 1, 8, 8))
