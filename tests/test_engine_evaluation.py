"""What the evaluation feeds the ranking: L2-normalised embeddings, unless the model's metric is
defined on its raw outputs (LOMO + XQDA); AdaBN, which tests a model again after its batch-norm
statistics are re-estimated; and the training split ranked among itself."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from reid_lib.data.records import Record, ReIDDataset
from reid_lib.data.synthetic import PRESETS, generate_synthetic
from reid_lib.engine import load_config
from reid_lib.engine.bn_adaptation import adapt_batch_norm
from reid_lib.engine.evaluation import (
    VARIANT_SETTINGS,
    embed_records,
    evaluate_model,
    train_split_metrics,
)
from reid_lib.engine.experiment import load_dataset
from reid_lib.engine.results import VARIANTS, validate_results
from tests.result_files import result_dict


class Constant(nn.Module):
    """Every image -> eight threes (L2 norm ``3 * sqrt(8)``)."""

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return torch.full((len(images), 8), 3.0)


def test_embeddings_are_unit_length_unless_the_model_says_otherwise(tmp_path):
    root = tmp_path / "synthetic"
    generate_synthetic(root, PRESETS["tiny"], preset="tiny", seed=0)
    cfg = load_config("smoke", [f"data.root={root}", "data.num_workers=0", "run.progress=false"])
    records = load_dataset(cfg).query[:4]
    cpu = torch.device("cpu")
    normalised, pids, _ = embed_records(Constant(), records, cfg, cpu)
    assert torch.allclose(normalised.norm(dim=1), torch.ones(4))
    assert list(pids) == [r.pid for r in records]
    raw_model = Constant()
    raw_model.l2_normalise = False
    raw, _, _ = embed_records(raw_model, records, cfg, cpu)
    assert torch.allclose(raw.norm(dim=1), torch.full((4,), 3 * 8**0.5))


def _two_batches() -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return [torch.randn(4, 3, 2, 2, generator=generator) * 2 + 5 for _ in range(2)]


def test_adapted_batch_norm_holds_the_statistics_of_the_images_and_leaves_the_model():
    """A BN layer alone: its running mean is the average of the two (equal) batches' channel
    means, its running variance the average of their unbiased variances, as PyTorch's
    cumulative average (momentum None) defines them. Dropout before it stays off."""
    model = nn.Sequential(nn.Dropout(0.9), nn.BatchNorm2d(3))
    batches = _two_batches()
    adapted = adapt_batch_norm(model, batches, torch.device("cpu"))
    per_batch = [b.transpose(0, 1).reshape(3, -1) for b in batches]
    expected_mean = torch.stack([x.mean(dim=1) for x in per_batch]).mean(dim=0)
    expected_var = torch.stack([x.var(dim=1, unbiased=True) for x in per_batch]).mean(dim=0)
    norm = adapted[1]
    assert torch.allclose(norm.running_mean, expected_mean, atol=1e-5)
    assert torch.allclose(norm.running_var, expected_var, atol=1e-5)
    assert not adapted.training and norm.momentum == model[1].momentum == 0.1
    assert torch.equal(model[1].running_mean, torch.zeros(3)), "the model itself is left as it was"
    assert torch.equal(model[1].running_var, torch.ones(3))


def test_adapted_batch_norm_needs_images():
    with pytest.raises(ValueError, match="no images to estimate the statistics from"):
        adapt_batch_norm(nn.BatchNorm2d(3), [], torch.device("cpu"))


def test_adapt_bn_adds_a_variant_beside_the_models_own_numbers(tmp_path):
    """A model whose output is its BN layer's: after AdaBN on the training images, the ranking
    changes, and the plain variant is what it was without AdaBN."""
    root = tmp_path / "synthetic"
    generate_synthetic(root, PRESETS["tiny"], preset="tiny", seed=0)
    overrides = [f"data.root={root}", "data.num_workers=0", "run.progress=false"]
    plain_cfg = load_config("smoke", overrides)
    cfg = load_config("smoke", [*overrides, "eval.adapt_bn=true"])
    dataset = load_dataset(cfg)
    torch.manual_seed(0)
    model = nn.Sequential(nn.AdaptiveAvgPool2d(4), nn.BatchNorm2d(3), nn.Flatten())
    model[1].running_mean.fill_(0.3)  # statistics far from the images'
    model[1].running_var.fill_(0.01)
    cpu = torch.device("cpu")
    metrics = evaluate_model(model, dataset, cfg, cpu)
    assert set(metrics) == {"single_query", "single_query_adabn"}
    assert metrics["single_query"] == evaluate_model(model, dataset, plain_cfg, cpu)["single_query"]
    assert metrics["single_query_adabn"] != metrics["single_query"]
    assert torch.equal(model[1].running_mean, torch.full((3,), 0.3)), "the model is left as it was"
    validate_results(
        {**result_dict("r", profile="smoke", dataset="synthetic", rank1=0.5), "metrics": metrics}
    )


class _MeanColour(nn.Module):
    """The image's mean colour: ``[N, 3, H, W] -> [N, 3]``, not L2-normalised (grey levels stay
    apart: their distance is proportional to the difference of their levels)."""

    l2_normalise = False

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return images.mean(dim=(2, 3))


def _trained_on(tmp_path, colours) -> ReIDDataset:
    """A dataset whose training split is one solid image per (person, camera) of ``colours``."""
    records = []
    for (pid, camid), colour in colours.items():
        path = tmp_path / f"{pid}_{camid}.png"
        Image.fromarray(np.full((16, 8, 3), colour, dtype=np.uint8)).save(path)
        records.append(Record(path, pid, camid))
    return ReIDDataset("handmade", tmp_path, records, records[:1], records[:1])


def _train_split(tmp_path, colours) -> dict[str, float | int]:
    cfg = load_config("smoke", ["eval.flip=false", "data.num_workers=0", "run.progress=false"])
    return train_split_metrics(
        _MeanColour(), _trained_on(tmp_path, colours), cfg, torch.device("cpu")
    )


def test_each_training_image_finds_its_person_in_the_other_camera(tmp_path):
    """Person p looks alike in both cameras: every query's one match (the other camera's image)
    is at distance 0, so mAP and Rank-1 are 1; its own image (same camera) is left out."""
    colours = {(p, c): (40 * p + 20, 200 - 40 * p, 90) for p in range(4) for c in (0, 1)}
    metrics = _train_split(tmp_path, colours)
    assert (metrics["mAP"], metrics["rank1"], metrics["num_valid_queries"]) == (1.0, 1.0, 8)


def test_the_training_split_ranked_by_hand(tmp_path):
    """Grey levels (person, camera): p0 0 and 100, p1 90 and 10, p2 220 and 220. Ranked by the
    difference of levels, with the same person's same-camera image left out:
    (0,0) finds its match 3rd (after 10, 90); (0,1) 3rd (after 90, 10); (1,0) 2nd (after 100);
    (1,1) 2nd (after 0); p2's two images find each other 1st."""
    levels = {(0, 0): 0, (0, 1): 100, (1, 0): 90, (1, 1): 10, (2, 0): 220, (2, 1): 220}
    metrics = _train_split(tmp_path, {key: (level,) * 3 for key, level in levels.items()})
    assert metrics["rank1"] == pytest.approx(2 / 6)
    assert metrics["rank5"] == 1.0
    assert metrics["mAP"] == pytest.approx((1 / 3 + 1 / 3 + 1 / 2 + 1 / 2 + 1 + 1) / 6)


def test_the_training_split_needs_training_images(tmp_path):
    """Said before any image is read (the one named here does not exist)."""
    records = [Record(tmp_path / "a.png", 0, 0)]
    dataset = ReIDDataset("test-only", tmp_path, [], records, records, allow_empty=("train",))
    cfg = load_config("smoke", ["eval.train_split=true"])
    with pytest.raises(ValueError, match=r"eval\.train_split=true, but dataset 'test-only' has no"):
        evaluate_model(_MeanColour(), dataset, cfg, torch.device("cpu"))


def test_every_variant_but_single_query_has_the_settings_that_add_it():
    assert set(VARIANT_SETTINGS) == set(VARIANTS) - {"single_query"}
