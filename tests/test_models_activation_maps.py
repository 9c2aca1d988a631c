"""Activation maps: the hand-computed case, normalisation invariants, the model's stages, spread."""

from __future__ import annotations

import pytest
import torch

from reid_lib.models import build_model
from reid_lib.models.activation_maps import activation_map, activation_maps, attention_spread

IMAGES = torch.randn(3, 3, 64, 32)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build_model(5, backbone="resnet18", num_parts=2)


def test_hand_computed_two_by_two_map():
    # channel means of squares: [[(1+1)/2, (4+0)/2], [(9+1)/2, (0+4)/2]] = [[1, 2], [5, 2]]
    features = torch.tensor([[[[1.0, 2.0], [3.0, 0.0]], [[1.0, 0.0], [1.0, 2.0]]]])
    expected = torch.tensor([[[0.0, 0.25], [1.0, 0.25]]])  # (x - 1) / (5 - 1)
    assert torch.allclose(activation_map(features), expected)
    assert torch.allclose(activation_map(-3 * features), expected)  # squares: sign and scale go
    assert attention_spread(expected).tolist() == [0.25]
    assert attention_spread(expected, threshold=0.25).tolist() == [0.75]  # ">=" counts the ties


def test_each_image_is_normalised_on_its_own():
    features = torch.randn(4, 8, 5, 3)
    features[1] *= 100  # a much stronger image does not change the others' maps
    maps = activation_map(features)
    assert maps.shape == (4, 5, 3)
    assert torch.allclose(maps.amin(dim=(1, 2)), torch.zeros(4))
    assert torch.allclose(maps.amax(dim=(1, 2)), torch.ones(4))
    for i in range(4):
        assert torch.allclose(maps[i], activation_map(features[i : i + 1])[0])


def test_a_flat_map_is_all_zeros_not_nan():
    features = torch.randn(2, 4, 3, 3)
    features[0] = 2.0
    maps = activation_map(features)
    assert torch.equal(maps[0], torch.zeros(3, 3))
    assert attention_spread(maps)[0] == 0


def test_bad_shapes_and_thresholds_are_named():
    with pytest.raises(ValueError, match=r"features: expected \[N, C, h, w\], got shape \(4, 3\)"):
        activation_map(torch.zeros(4, 3))
    with pytest.raises(ValueError, match=r"maps: expected \[N, h, w\]"):
        attention_spread(torch.zeros(2, 1, 3, 3))
    with pytest.raises(ValueError, match="threshold=0: expected a value in"):
        attention_spread(torch.zeros(2, 3, 3), threshold=0)


def test_model_maps_have_the_stage_shapes_and_span_zero_to_one(model):
    maps = activation_maps(model, IMAGES)
    assert {s: tuple(m.shape) for s, m in maps.items()} == {
        "stage1": (3, 16, 8),
        "stage2": (3, 8, 4),
        "stage3": (3, 4, 2),
    }
    for m in maps.values():
        assert not m.requires_grad
        assert torch.allclose(m.amin(dim=(1, 2)), torch.zeros(3))
        assert torch.allclose(m.amax(dim=(1, 2)), torch.ones(3))
    with torch.no_grad():
        stage4 = model.eval().stage_maps(IMAGES)["stage4"]
    assert torch.equal(activation_maps(model, IMAGES, ["stage4"])["stage4"], activation_map(stage4))


def test_model_runs_in_eval_mode_and_gets_its_mode_back(model):
    model.train()
    stats = [b.running_mean.clone() for b in model.modules() if isinstance(b, torch.nn.BatchNorm2d)]
    first = activation_maps(model, IMAGES)
    assert all(m.training for m in model.modules())
    after = [b.running_mean for b in model.modules() if isinstance(b, torch.nn.BatchNorm2d)]
    assert all(torch.equal(a, b) for a, b in zip(stats, after, strict=True))  # no BN update
    assert torch.equal(first["stage2"], activation_maps(model, IMAGES)["stage2"])


def test_unknown_stage_names_the_stage_and_the_valid_ones(model):
    with pytest.raises(ValueError, match=r"unknown stage\(s\) \['stage5'\]; expected some of "):
        activation_maps(model, IMAGES, ("stage1", "stage5"))
    with pytest.raises(ValueError, match=r"\['stage1', 'stage2', 'stage3', 'stage4'\]"):
        activation_maps(model, IMAGES, ("layer1",))
