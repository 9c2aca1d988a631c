"""LOMO + XQDA: the histogram parts by hand, XQDA against its textbook formula, and a run of it
through the engine."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg
import torch
import torch.nn.functional as F

from reid_lib.data.transforms import IMAGENET_MEAN, IMAGENET_STD
from reid_lib.engine import load_config
from reid_lib.engine.experiment import train
from reid_lib.models import build_any_model
from reid_lib.models.colour_histogram import joint_bin_index, joint_index, quantise, rgb_to_hsv
from reid_lib.models.lomo import (
    LOMO,
    PATCH,
    RGB2GRAY_WEIGHTS,
    STRIDE,
    gaussian_blur,
    hsv_level_pyramid,
    luma_grey,
    max_occurrence,
    multi_scale_retinex,
    retinex,
    siltp_codes,
)
from reid_lib.models.lomo_xqda import LomoXqda
from reid_lib.models.xqda import REGULARISATION, fit_xqda, pair_covariances


def normalised(rgb: torch.Tensor) -> torch.Tensor:
    """``[N, 3, H, W]`` RGB in [0, 1] as the test loader hands it over."""
    mean, std = torch.tensor(IMAGENET_MEAN), torch.tensor(IMAGENET_STD)
    return (rgb - mean.view(1, 3, 1, 1)) / std.view(1, 3, 1, 1)


def test_the_blur_reaches_truncate_sigmas_and_a_flat_image_has_no_retinex():
    impulse = torch.zeros(1, 1, 41, 41)
    impulse[0, 0, 20, 20] = 1.0
    for truncate, radius in ((3.0, 6), (2.0, 4)):
        blurred = gaussian_blur(impulse, 2.0, truncate)
        reached = blurred[0, 0, 20].nonzero().flatten()
        assert (reached.min().item(), reached.max().item()) == (20 - radius, 20 + radius)
        assert blurred.sum().item() == pytest.approx(1.0)
    flat = torch.full((2, 3, 30, 20), 7.0)
    assert torch.allclose(multi_scale_retinex(flat), torch.zeros_like(flat), atol=1e-6)


def test_the_retinex_changes_brightness_only_and_the_grey_is_rgb2gray():
    rgb = torch.rand(2, 3, 40, 20, generator=torch.Generator().manual_seed(1))
    rgb[0, :, :5] = 0.0
    out = retinex(rgb)
    assert out.shape == rgb.shape and out.min() >= 0 and out.max() <= 1 + 1e-6
    assert torch.equal(out[0, :, :5], torch.zeros(3, 5, 20)), "black stays black"
    before, after = rgb_to_hsv(rgb), rgb_to_hsv(out)
    lit = after[:, 2] > 1e-3
    assert torch.allclose(before[:, 0][lit], after[:, 0][lit], atol=1e-5), "hue kept"
    assert torch.allclose(before[:, 1][lit], after[:, 1][lit], atol=1e-5), "saturation kept"
    assert (before[:, 2] - after[:, 2]).abs().max() > 0.1, "brightness changed"
    assert torch.allclose(out.amax(1).flatten(1).amax(1), torch.ones(2)), "stretched to the top"
    grey = luma_grey(torch.tensor([[1.0, 0.0, 0.0], [0.2, 0.4, 0.8]]).view(2, 3, 1, 1))
    expected = [255 * RGB2GRAY_WEIGHTS[0], 255 * (0.2 * 0.2989 + 0.4 * 0.5870 + 0.8 * 0.1140)]
    assert grey.flatten().tolist() == pytest.approx(expected)


def test_max_occurrence_is_the_row_maximum_of_every_patch_histogram():
    codes = torch.randint(0, 7, (2, 23, 17))
    # The definition: a one-hot map per bin, summed over each 10x10 patch every 5 pixels.
    one_hot = F.one_hot(codes, 7).permute(0, 3, 1, 2).float()
    patches = F.avg_pool2d(one_hot, PATCH, STRIDE) * PATCH**2  # [N, bins, rows, cols]
    expected = patches.amax(dim=3).transpose(1, 2)
    got = max_occurrence(codes, 7)
    assert got.shape == (2, (23 - PATCH) // STRIDE + 1, 7)
    assert torch.allclose(got, expected)


def test_siltp_digits_by_hand():
    grey = torch.tensor([[[0.0, 12, 0], [10, 10, 20], [0, 5, 0]]])
    # Centre 10, tau 0.3: right 20 > 13 is digit 1 (times 3**0); down 5 < 7 is digit 2 (times
    # 3**1); left 10 and up 12 lie within [7, 13], digits 0.
    assert siltp_codes(grey, radius=1, tau=0.3)[0, 1, 1] == 1 + 2 * 3
    flat = torch.full((1, 9, 9), 50.0)
    assert not siltp_codes(flat, radius=3).any(), "a flat image has no texture"


def test_hsv_codes_of_pure_colours():
    pixels = torch.tensor([[1.0, 0, 0], [0, 0, 1], [0, 0, 0]]).T.reshape(1, 3, 1, 3)
    # red: hue 0, saturation and value at the top bin 7; blue: hue 4/6, bin 5; black: all 0.
    codes = joint_index(quantise(rgb_to_hsv(pixels), (8, 8, 8)), (8, 8, 8))
    assert codes.tolist() == [[[7 * 8 + 7, (5 * 8 + 7) * 8 + 7, 0]]]
    assert torch.equal(codes, joint_bin_index(rgb_to_hsv(pixels), (8, 8, 8)))


def test_the_lower_scales_pool_each_channels_hsv_level_as_liaos_code():
    # Each 2x2 block: one red pixel (hue level 0) and three yellow (hue 1/6: level 1), all at
    # saturation and value level 7. Liao et al.'s ColorPooling: floor((0 + 1 + 1 + 1) / 4) = 0.
    # Pooling the image instead gives RGB (1, 0.75, 0), hue 0.125: level 1.
    block = torch.tensor(
        [[[1.0, 1.0], [1.0, 1.0]], [[0.0, 1.0], [1.0, 1.0]], [[0.0, 0.0], [0.0, 0.0]]]
    )
    image = block.repeat(1, 2, 2)[None]
    pyramid = hsv_level_pyramid(image)
    assert [tuple(p.shape[2:]) for p in pyramid] == [(4, 4), (2, 2), (1, 1)]
    assert pyramid[0][0, :, 0, 1].tolist() == [1, 7, 7] and pyramid[0][0, :, 0, 0].tolist() == [
        0,
        7,
        7,
    ]
    assert (pyramid[1][0, 0] == 0).all() and (pyramid[1][0, 1:] == 7).all()
    assert (hsv_level_pyramid(image, pool_levels=False)[1][0, 0] == 1).all()
    assert pyramid[2].tolist() == [[[[0]], [[7]], [[7]]]]


def test_lomo_length_norms_and_a_flat_image():
    lomo = LOMO()
    assert LOMO.dim(128) == 40 * (512 + 2 * 81) == 26960, "Liao et al.'s 26,960 at 128 high"
    images = normalised(torch.rand(2, 3, 128, 64))
    feats = lomo(images)
    assert feats.shape == (2, 26960) and (feats >= 0).all()
    assert torch.allclose(feats.norm(dim=1), torch.full((2,), math.sqrt(3)))
    assert lomo(normalised(torch.rand(1, 3, 128, 48))).shape == (1, 26960)
    flat = lomo(normalised(torch.full((1, 3, 128, 64), 0.5)))[0]
    hsv, siltp = flat[: 40 * 512].view(40, 512), flat[40 * 512 :].view(2, 40, 81)
    # One colour (Retinex flattens it to 0: HSV bin 0) and no texture (SILTP code 0): one bin
    # per row holds a whole patch, log(1 + 100), the same in every row.
    assert torch.allclose(hsv[:, 0], torch.full((40,), 1 / math.sqrt(40)))
    assert torch.allclose(siltp[:, :, 0], torch.full((2, 40), 1 / math.sqrt(40)))
    assert hsv[:, 1:].abs().sum() == 0 and siltp[:, :, 1:].abs().sum() == 0
    with pytest.raises(ValueError, match="at least 40x40 pixels; got \\(64, 32\\)"):
        lomo(torch.zeros(1, 3, 64, 32))


def test_pair_covariances_equal_the_sum_over_listed_pairs():
    rng = np.random.default_rng(0)
    feats, pids = rng.normal(size=(7, 3)), np.array([0, 0, 0, 1, 1, 2, 2])
    same = [(i, j) for i, j in itertools.combinations(range(7), 2) if pids[i] == pids[j]]
    other = [(i, j) for i, j in itertools.combinations(range(7), 2) if pids[i] != pids[j]]

    def mean_outer(pairs):
        return sum(np.outer(feats[i] - feats[j], feats[i] - feats[j]) for i, j in pairs) / len(
            pairs
        )

    intra, extra = pair_covariances(feats, pids)
    assert np.allclose(intra, mean_outer(same) + REGULARISATION * np.eye(3))
    assert np.allclose(extra, mean_outer(other))
    with pytest.raises(ValueError, match="3 images of 3 identities"):
        pair_covariances(feats[[0, 3, 5]], pids[[0, 3, 5]])


def test_the_projection_gives_liaos_distance():
    rng = np.random.default_rng(1)
    feats, pids = rng.normal(size=(40, 5)), np.repeat(np.arange(10), 4)
    projection = fit_xqda(torch.from_numpy(feats), pids).double().numpy()
    # The textbook: unit eigenvectors of inv(S_I) S_E with eigenvalue above 1, and
    # M = inv(W' S_I W) - inv(W' S_E W).
    intra, extra = pair_covariances(feats, pids)
    values, vectors = scipy.linalg.eig(np.linalg.solve(intra, extra))
    keep = values.real > 1
    w = vectors[:, keep].real
    m = np.linalg.inv(w.T @ intra @ w) - np.linalg.inv(w.T @ extra @ w)
    x, z = rng.normal(size=5), rng.normal(size=5)
    liao = (x - z) @ w @ m @ w.T @ (x - z)
    ours = np.sum(((x - z) @ projection) ** 2)
    assert projection.shape == (5, keep.sum())
    assert ours == pytest.approx(liao, rel=1e-4)


def test_xqda_finds_identity_where_a_nuisance_swamps_the_euclidean_distance():
    rng = np.random.default_rng(2)

    def views(ids: int) -> tuple[torch.Tensor, np.ndarray]:
        identity = rng.normal(size=(ids, 1, 2)).repeat(2, axis=1)  # two views of each person
        nuisance = rng.normal(scale=20, size=(ids, 2, 3))  # differs between the views
        feats = np.concatenate(
            [identity + rng.normal(scale=0.01, size=identity.shape), nuisance], 2
        )
        return torch.from_numpy(feats.reshape(2 * ids, 5)), np.repeat(np.arange(ids), 2)

    train_feats, train_pids = views(50)
    projection = fit_xqda(train_feats, train_pids)
    test_feats, _ = views(30)
    probe, gallery = test_feats[0::2].float(), test_feats[1::2].float()

    def rank1(a: torch.Tensor, b: torch.Tensor) -> float:
        return (torch.cdist(a, b).argmin(dim=1) == torch.arange(len(a))).float().mean().item()

    assert rank1(probe, gallery) < 0.3
    assert rank1(probe @ projection, gallery @ projection) > 0.9


def test_an_unfitted_model_says_so_and_the_factory_builds_it():
    model = build_any_model(10, arch="lomo_xqda")
    assert isinstance(model, LomoXqda) and model.l2_normalise is False
    with pytest.raises(RuntimeError, match="not fitted yet"):
        model(torch.zeros(1, 3, 128, 64))


@pytest.mark.slow
def test_a_run_fits_on_the_training_split_and_beats_chance(tmp_path):
    overrides = [
        "model.arch=lomo_xqda",
        "data.height=128",
        "data.width=64",
        f"run.output_dir={tmp_path / 'runs'}",
        f"run.results_dir={tmp_path / 'results'}",
        "run.name=lomo",
        "run.progress=false",
    ]
    result = train(load_config("smoke", overrides))
    data = json.loads(Path(result.results_path).read_text())
    assert (data["epoch"], data["run"]["pretraining"], result.epochs_completed) == (0, None, 0)
    floor = train(load_config("smoke", [*overrides, "model.arch=colour_histogram", "run.name=f"]))
    floor_rank1 = json.loads(Path(floor.results_path).read_text())["metrics"]["single_query"]
    assert data["metrics"]["single_query"]["rank1"] > floor_rank1["rank1"]
    assert not list((tmp_path / "runs").rglob("*.pt")), "nothing to resume: no checkpoint"
