"""The comparison models (IDE, Bag of Tricks, PCB, HPM): shapes, classifiers, parameters and
losses."""

from __future__ import annotations

import pytest
import torch

from reid_lib.losses import BranchLoss, batch_hard_triplet, label_smoothed_cross_entropy
from reid_lib.models import HPM, PCB, BranchOutput, GlobalResNet, IDEResNet, build_any_model
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
        ("resnet_ide", 1, 1, C4, C4 * K + K),  # a classifier with bias on the pooled map
        ("resnet_global", 1, 1, C4, 2 * C4 + C4 * K),  # BN neck, bias-free classifier
        ("pcb", 6, 1, 6 * C4, 6 * PART_HEAD),  # the test feature is the six pooled stripes g
        ("hpm", 15, 1, 15 * 256, 15 * PART_HEAD),  # the test feature is the 15 reduced parts
    ],
)
def test_shapes_classifiers_embedding_and_parameters(arch, branches, triplets, dim, head):
    model = build_any_model(K, arch=arch, backbone="resnet18")
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
    archs = ("pcb", "hpm", "resnet_ide")
    kinds = {a: type(build_any_model(K, arch=a, backbone="resnet18")) for a in archs}
    assert kinds == {"pcb": PCB, "hpm": HPM, "resnet_ide": IDEResNet}
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
    with pytest.raises(ValueError, match=r"pcb_stripes=6: the stage4 map has 4 rows"):
        PCB(backbone, K, 6).train()(torch.randn(2, 3, 64, 32))
    with pytest.raises(ValueError, match=r"hpm_bins=\(1, 2, 4, 8\): the stage4 map has 4 rows"):
        HPM(backbone, K).train()(torch.randn(2, 3, 64, 32))


def test_pcb_tests_on_the_pooled_stripes_each_normalised():
    torch.manual_seed(0)
    model = build_any_model(K, arch="pcb", backbone="resnet18").eval()
    f4 = model.stage_maps(IMAGES[:2])["stage4"]
    stripes = torch.nn.functional.adaptive_avg_pool2d(f4, (6, 1)).squeeze(3)  # [N, C4, 6]
    g = torch.nn.functional.normalize(stripes, dim=1).transpose(1, 2).flatten(1)
    expected = torch.nn.functional.normalize(g)
    assert torch.allclose(model(IMAGES[:2]), expected, atol=1e-6)


@pytest.mark.parametrize("arch", ["resnet_ide", "pcb", "hpm"])
@pytest.mark.parametrize(
    ("weight_tri", "terms"), [(0.0, {"ce_branches"}), (1.0, {"ce_branches", "tri_branches"})]
)
def test_the_triplet_term_is_the_configs_choice(arch, weight_tri, terms):
    model = build_any_model(K, arch=arch, backbone="resnet18").train()
    loss = BranchLoss(epsilon=0.0, margin=0.3, weights={"tri": weight_tri})(model(IMAGES), PIDS)
    assert set(loss.terms) == terms
    assert torch.isfinite(loss.total)


def test_branch_loss_is_the_summed_cross_entropy_plus_the_mean_triplet():
    torch.manual_seed(0)
    logits, features = torch.randn(4, 3, K), torch.randn(4, 2, 8)
    output = BranchOutput(logits=logits, triplet=features, embedding=features.flatten(1))
    loss = BranchLoss(epsilon=0.1, margin=0.3, weights={"tri": 2.0})(output, PIDS)
    # Summed as in PCB and HPM: each head's cross-entropy keeps its full weight against the
    # weight decay of its parameters.
    ce = sum(label_smoothed_cross_entropy(logits[:, b], PIDS, 0.1) for b in range(3))
    tri = sum(batch_hard_triplet(features[:, t], PIDS, 0.3) for t in range(2)) / 2
    assert torch.allclose(loss.terms["ce_branches"], ce)
    assert torch.allclose(loss.terms["tri_branches"], tri)
    assert torch.allclose(loss.total, ce + 2.0 * tri)
    with pytest.raises(ValueError, match=r"unknown term kinds \['msg'\]"):
        BranchLoss(weights={"msg": 1.0})
