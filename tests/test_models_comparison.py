"""The comparison models (global ResNet, PCB, HPM): shapes, classifiers, parameters and losses."""

from __future__ import annotations

import pytest
import torch

from reid_lib.losses import BranchLoss, batch_hard_triplet, label_smoothed_cross_entropy
from reid_lib.models import HPM, PCB, BranchOutput, GlobalResNet, build_any_model
from reid_lib.models.backbone import build_backbone
from reid_lib.models.hpm import pyramid_parts

K = 10
C4 = 512  # ResNet-18's stage4 channels
IMAGES = torch.randn(4, 3, 128, 64)
PIDS = torch.tensor([0, 0, 1, 1])
# A part head by hand: Linear C4->256 with bias, BatchNorm(256), classifier 256->K with bias.
PART_HEAD = C4 * 256 + 256 + 2 * 256 + 256 * K + K


def n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def head_params(model: torch.nn.Module) -> int:
    return n_params(model) - n_params(model.backbone)


@pytest.mark.parametrize(
    ("arch", "branches", "triplets", "dim", "head"),
    [
        (
            "resnet_global",
            1,
            1,
            C4,
            2 * C4 + C4 * K,
        ),  # BN neck (weight, bias), bias-free classifier
        ("pcb", 6, 0, 6 * 256, 6 * PART_HEAD),
        ("hpm", 15, 15, 15 * 256, 15 * PART_HEAD),
    ],
)
def test_shapes_classifiers_embedding_and_parameters(arch, branches, triplets, dim, head):
    model = build_any_model(K, arch=arch, backbone="resnet18", num_parts=6)
    output = model.train()(IMAGES)
    assert isinstance(output, BranchOutput)
    assert output.logits.shape == (4, branches, K)
    assert output.triplet.shape[:2] == (4, triplets)
    assert model.embedding_dim == dim
    embedding = model.eval()(IMAGES[:2])
    assert embedding.shape == (2, dim)
    assert torch.allclose(embedding.norm(dim=1), torch.ones(2))
    assert head_params(model) == head


def test_each_arch_is_its_class_and_unknown_ones_are_named():
    kinds = {a: type(build_any_model(K, arch=a, backbone="resnet18")) for a in ("pcb", "hpm")}
    assert kinds == {"pcb": PCB, "hpm": HPM}
    assert isinstance(build_any_model(K, arch="resnet_global", backbone="resnet18"), GlobalResNet)
    with pytest.raises(ValueError, match=r"arch='osnet' is unknown; expected one of"):
        build_any_model(K, arch="osnet")


def test_pyramid_bins_pool_by_average_plus_max():
    f4 = torch.tensor([1.0, 2.0, 3.0, 4.0]).reshape(1, 1, 4, 1)
    parts = pyramid_parts(f4, (1, 2))
    assert parts.shape == (1, 3, 1)
    assert parts.flatten().tolist() == [2.5 + 4, 1.5 + 2, 3.5 + 4]


def test_too_few_stage4_rows_are_named():
    backbone = build_backbone("resnet18", None)
    with pytest.raises(ValueError, match=r"num_parts=6: the stage4 map has 4 rows"):
        PCB(backbone, K, 6).train()(torch.randn(2, 3, 64, 32))
    with pytest.raises(ValueError, match=r"hpm_bins=\(1, 2, 4, 8\): the stage4 map has 4 rows"):
        HPM(backbone, K).train()(torch.randn(2, 3, 64, 32))


@pytest.mark.parametrize(
    ("arch", "terms"), [("pcb", {"ce_branches"}), ("hpm", {"ce_branches", "tri_branches"})]
)
def test_loss_terms_are_the_source_papers(arch, terms):
    model = build_any_model(K, arch=arch, backbone="resnet18", num_parts=6).train()
    loss = BranchLoss(epsilon=0.1, margin=0.3)(model(IMAGES), PIDS)
    assert set(loss.terms) == terms
    assert torch.isfinite(loss.total)


def test_branch_loss_is_the_mean_cross_entropy_plus_the_mean_triplet():
    torch.manual_seed(0)
    logits, features = torch.randn(4, 3, K), torch.randn(4, 2, 8)
    output = BranchOutput(logits=logits, triplet=features, embedding=features.flatten(1))
    loss = BranchLoss(epsilon=0.1, margin=0.3, weights={"tri": 2.0})(output, PIDS)
    ce = sum(label_smoothed_cross_entropy(logits[:, b], PIDS, 0.1) for b in range(3)) / 3
    tri = sum(batch_hard_triplet(features[:, t], PIDS, 0.3) for t in range(2)) / 2
    assert torch.allclose(loss.terms["ce_branches"], ce)
    assert torch.allclose(loss.terms["tri_branches"], tri)
    assert torch.allclose(loss.total, ce + 2.0 * tri)
    with pytest.raises(ValueError, match=r"unknown term kinds \['msg'\]"):
        BranchLoss(weights={"msg": 1.0})
