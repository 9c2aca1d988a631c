import itertools
import math

import pytest
import torch

from reid_lib.losses import (
    LossOutput,
    ReIDLoss,
    batch_hard_triplet,
    label_smoothed_cross_entropy,
    pairwise_distances,
)
from reid_lib.models import GlobalOutput, ModelOutput, PartOutput, StageOutput, build_model

TARGETS = torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])


def brute_force_ce(logits, targets, eps):
    n, k = logits.shape
    total = 0.0
    for i in range(n):
        log_z = math.log(sum(math.exp(float(v)) for v in logits[i]))
        for j in range(k):
            q = (1 - eps) * (j == int(targets[i])) + eps / k
            total -= q * (float(logits[i, j]) - log_z)
    return total / n


def brute_force_triplet(features, targets, margin):
    n = len(targets)
    total = 0.0
    for a in range(n):
        dist = [float((features[a] - features[j]).norm()) for j in range(n)]
        d_ap = max(dist[j] for j in range(n) if targets[j] == targets[a])
        d_an = min(dist[j] for j in range(n) if targets[j] != targets[a])
        gap = d_ap - d_an
        total += math.log1p(math.exp(gap)) if margin is None else max(0.0, gap + margin)
    return total / n


@pytest.mark.parametrize("eps", [0.0, 0.1, 0.3])
def test_label_smoothed_ce_matches_brute_force(eps):
    torch.manual_seed(1)
    logits = torch.randn(6, 5) * 3
    targets = torch.tensor([0, 4, 2, 2, 1, 3])
    value = label_smoothed_cross_entropy(logits, targets, eps)
    assert value.item() == pytest.approx(brute_force_ce(logits, targets, eps), rel=1e-5)


@pytest.mark.parametrize("margin", [0.3, 1.0, None])
def test_batch_hard_triplet_matches_brute_force(margin):
    torch.manual_seed(2)
    features = torch.randn(8, 16)
    value = batch_hard_triplet(features, TARGETS, margin)
    expected = brute_force_triplet(features, TARGETS, margin)
    assert value.item() == pytest.approx(expected, rel=1e-5, abs=1e-6)


def test_triplet_is_zero_for_well_separated_identities():
    features = torch.repeat_interleave(torch.eye(4) * 10, 2, dim=0)
    assert batch_hard_triplet(features, TARGETS, 0.3).item() == pytest.approx(0.0, abs=1e-5)


def test_pairwise_distances_have_a_finite_gradient_on_the_diagonal():
    features = torch.randn(4, 3, requires_grad=True)
    dist = pairwise_distances(features)
    assert torch.allclose(dist, torch.cdist(features, features), atol=1e-4)
    dist.sum().backward()
    assert torch.isfinite(features.grad).all()


def test_triplet_needs_two_identities():
    with pytest.raises(ValueError, match="at least two identities"):
        batch_hard_triplet(torch.randn(4, 3), torch.zeros(4, dtype=torch.long))


@pytest.mark.parametrize(
    ("targets", "match"),
    [
        (torch.tensor([0, 1, 2]), r"targets: expected an integer tensor \[4\]"),
        (torch.tensor([0.0, 1.0, 2.0, 1.0]), "targets: expected an integer tensor"),
        (torch.tensor([0, 1, 2, 5]), r"targets: expected labels in 0..2"),
    ],
)
def test_ce_rejects_bad_targets(targets, match):
    with pytest.raises(ValueError, match=match):
        label_smoothed_cross_entropy(torch.randn(4, 3), targets)


def _stage(n, c, k):
    return StageOutput(
        avg=torch.randn(n, c),
        max=torch.randn(n, c),
        neck=torch.randn(n, c),
        logits=torch.randn(n, k),
    )


def _output(msg=True, parts=True, n=8, k=4, p=3):
    torch.manual_seed(3)
    return ModelOutput(
        stages={"stage3": _stage(n, 6, k), "stage4": _stage(n, 10, k)},
        msg=GlobalOutput(torch.randn(n, 10), torch.randn(n, 10), torch.randn(n, k))
        if msg
        else None,
        parts=PartOutput(
            fused=torch.randn(n, p, 10),
            weights=torch.rand(n, p, 2),
            embeddings=torch.randn(n, p, 5),
            logits=torch.randn(n, p, k),
        )
        if parts
        else None,
    )


def test_reid_loss_follows_the_spec_formula():
    out = _output()
    result = ReIDLoss()(out, TARGETS)
    assert isinstance(result, LossOutput)
    expected_terms = {}
    for s in ("stage3", "stage4"):
        st = out.stages[s]
        expected_terms[f"ce_{s}"] = brute_force_ce(st.logits, TARGETS, 0.1)
        expected_terms[f"tri_{s}"] = (
            brute_force_triplet(st.avg, TARGETS, 0.3) + brute_force_triplet(st.max, TARGETS, 0.3)
        ) / 2
    expected_terms["ce_msg"] = brute_force_ce(out.msg.logits, TARGETS, 0.1)
    expected_terms["ce_parts"] = (
        sum(brute_force_ce(out.parts.logits[:, i], TARGETS, 0.1) for i in range(3)) / 3
    )
    assert set(result.terms) == set(expected_terms)
    for name, value in expected_terms.items():
        assert result.terms[name].item() == pytest.approx(value, rel=1e-5), name
    assert result.total.item() == pytest.approx(sum(expected_terms.values()), rel=1e-5)


def test_reid_loss_term_weights():
    out = _output()
    plain = ReIDLoss()(out, TARGETS)
    weights = {"ce": 2.0, "tri": 0.5, "msg": 0.0, "parts": 3.0}
    weighted = ReIDLoss(weights=weights)(out, TARGETS)
    t = plain.terms
    expected = (
        2.0 * (t["ce_stage3"] + t["ce_stage4"])
        + 0.5 * (t["tri_stage3"] + t["tri_stage4"])
        + 3.0 * t["ce_parts"]
    )
    assert weighted.total.item() == pytest.approx(expected.item(), rel=1e-6)
    assert torch.equal(weighted.terms["ce_msg"], t["ce_msg"])  # terms are reported unweighted


def test_reid_loss_soft_margin_and_epsilon():
    out = _output(msg=False, parts=False)
    result = ReIDLoss(epsilon=0.0, margin=None)(out, TARGETS)
    st = out.stages["stage4"]
    assert result.terms["ce_stage4"].item() == pytest.approx(
        brute_force_ce(st.logits, TARGETS, 0.0), rel=1e-5
    )
    soft = (
        brute_force_triplet(st.avg, TARGETS, None) + brute_force_triplet(st.max, TARGETS, None)
    ) / 2
    assert result.terms["tri_stage4"].item() == pytest.approx(soft, rel=1e-5)


@pytest.mark.parametrize(
    ("msg", "parts", "present"),
    [
        (True, True, {"ce_msg", "ce_parts"}),
        (False, True, {"ce_parts"}),
        (True, False, {"ce_msg"}),
        (False, False, set()),
    ],
)
def test_reid_loss_terms_follow_the_model_configuration(msg, parts, present):
    terms = ReIDLoss()(_output(msg=msg, parts=parts), TARGETS).terms
    stage_terms = {"ce_stage3", "tri_stage3", "ce_stage4", "tri_stage4"}
    assert set(terms) == stage_terms | present


def test_reid_loss_rejects_unknown_weights():
    with pytest.raises(ValueError, match=r"weights: unknown term kinds \['triplet'\]"):
        ReIDLoss(weights={"triplet": 1.0})


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"non_local": False, "msg": False, "wdp": None}, {"wdp": "fixed", "tsa": False}],
)
def test_optimiser_steps_drive_the_loss_down(kwargs):
    torch.manual_seed(0)
    model = build_model(4, backbone="resnet18", **kwargs).train()
    images = torch.randn(8, 3, 96, 32)
    criterion = ReIDLoss()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-4)
    losses = []
    for _ in range(5):
        loss = criterion(model(images), TARGETS)
        optimiser.zero_grad()
        loss.total.backward()
        optimiser.step()
        losses.append(loss.total.item())
    assert all(math.isfinite(v) for v in losses)
    assert losses[-1] < 0.8 * losses[0], losses
    assert all(later < earlier for earlier, later in itertools.pairwise(losses)), losses


def test_triplet_under_bf16_autocast_equals_the_float32_loss():
    """2048-d max-pooled features of realistic magnitude (non-negative, norms in the tens)."""
    torch.manual_seed(0)
    features = torch.relu(torch.randn(64, 2048) * 1.5 + 0.5)
    targets = torch.arange(16).repeat_interleave(4)
    exact = batch_hard_triplet(features, targets, 0.3)
    exact_distances = pairwise_distances(features)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixed = batch_hard_triplet(features.bfloat16(), targets, 0.3)
        mixed_from_fp32 = batch_hard_triplet(features, targets, 0.3)
        distances = pairwise_distances(features)
    assert distances.dtype == torch.float32
    assert torch.allclose(distances, exact_distances, atol=1e-4)
    assert abs(mixed_from_fp32.item() - exact.item()) < 1e-4
    assert mixed.dtype == torch.float32
    rounded = batch_hard_triplet(features.bfloat16().float(), targets)
    assert abs(mixed.item() - rounded.item()) < 1e-4


def test_cross_entropy_under_bf16_autocast_is_float32():
    torch.manual_seed(0)
    logits, targets = torch.randn(64, 751) * 4, torch.randint(0, 751, (64,))
    exact = label_smoothed_cross_entropy(logits, targets)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixed = label_smoothed_cross_entropy(logits, targets)
    assert mixed.dtype == torch.float32
    assert abs(mixed.item() - exact.item()) < 1e-5


@pytest.mark.parametrize("eps", [0.0, 0.1])
def test_a_per_set_softmax_is_the_cross_entropy_over_each_images_own_set(eps):
    torch.manual_seed(2)
    logits = torch.randn(4, 5) * 3
    targets = torch.tensor([0, 1, 3, 4])
    groups = torch.tensor([0, 0, 1, 1, 1])  # classes 0-1 are one set's people, 2-4 another's
    value = label_smoothed_cross_entropy(logits, targets, eps, groups)
    # By hand: the first two images see only classes 0-1, the last two only 2-4 (labels 1, 2).
    first = brute_force_ce(logits[:2, :2], targets[:2], eps)
    second = brute_force_ce(logits[2:, 2:], targets[2:] - 2, eps)
    assert value.item() == pytest.approx((2 * first + 2 * second) / 4, rel=1e-5)
    one_group = label_smoothed_cross_entropy(logits, targets, eps, torch.zeros(5, dtype=torch.long))
    assert one_group.item() == pytest.approx(brute_force_ce(logits, targets, eps), rel=1e-5)


def test_the_reid_loss_passes_its_class_groups_to_every_cross_entropy():
    out = _output()
    groups = torch.tensor([0, 0, 1, 1])
    result = ReIDLoss(class_groups=groups)(out, TARGETS)
    st = out.stages["stage3"]
    expected = (
        2 * brute_force_ce(st.logits[:4, :2], TARGETS[:4], 0.1)
        + 2 * brute_force_ce(st.logits[4:, 2:], TARGETS[4:] - 2, 0.1)
    ) / 4
    assert result.terms["ce_stage3"].item() == pytest.approx(expected, rel=1e-5)
    assert result.terms["ce_msg"].item() != pytest.approx(
        ReIDLoss()(out, TARGETS).terms["ce_msg"].item(), rel=1e-5
    )
    assert result.terms["tri_stage3"].item() == pytest.approx(
        ReIDLoss()(out, TARGETS).terms["tri_stage3"].item()
    ), "the triplet is untouched"
