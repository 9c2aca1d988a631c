import pytest
import torch
import torch.nn.functional as F

from reid_lib.models.heads import BNNeck, GlobalHead, StageHead
from reid_lib.models.multi_scale_global import MultiScaleGlobal
from reid_lib.models.nonlocal_block import NonLocalBlock
from reid_lib.models.part_heads import PartHeads
from reid_lib.models.tiny_spatial_attention import TinySpatialAttention
from reid_lib.models.weight_driven_parts import WeightDrivenParts, remainder_parts


def n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# --- non-local block ---------------------------------------------------------------------------


@pytest.mark.parametrize("train", [True, False])
def test_nonlocal_block_is_identity_at_init(train):
    block = NonLocalBlock(16).train(train)
    x = torch.randn(2, 16, 6, 4)
    assert torch.equal(block(x), x)


def test_nonlocal_block_matches_brute_force():
    torch.manual_seed(0)
    block = NonLocalBlock(8).eval()
    torch.nn.init.normal_(block.out_bn.weight)
    torch.nn.init.normal_(block.out_bn.bias)
    block.out_bn.running_mean.normal_()
    block.out_bn.running_var.uniform_(0.5, 2.0)
    x = torch.randn(2, 8, 3, 2)

    def conv1x1(conv, v):  # v: [C]
        return conv.weight[:, :, 0, 0] @ v + conv.bias

    expected = torch.empty_like(x)
    for n in range(2):
        pos = [x[n, :, h, w] for h in range(3) for w in range(2)]
        theta = [conv1x1(block.theta, v) for v in pos]
        phi = [conv1x1(block.phi, v) for v in pos]
        g = [conv1x1(block.g, v) for v in pos]
        for i, (h, w) in enumerate((h, w) for h in range(3) for w in range(2)):
            weights = torch.stack([theta[i] @ p for p in phi]).softmax(0)
            y = sum(weights[j] * g[j] for j in range(len(pos)))
            z = conv1x1(block.out_conv, y)
            bn = block.out_bn
            z = (z - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps) * bn.weight + bn.bias
            expected[n, :, h, w] = x[n, :, h, w] + z
    with torch.no_grad():
        assert torch.allclose(block(x), expected, atol=1e-5)


def test_nonlocal_affinity_is_a_softmax_over_positions():
    block = NonLocalBlock(16)
    affinity = block.affinity(torch.randn(2, 16, 5, 3))
    assert affinity.shape == (2, 15, 15)
    assert torch.allclose(affinity.sum(-1), torch.ones(2, 15))
    assert (affinity > 0).all()


def test_nonlocal_block_widths():
    block = NonLocalBlock(256)
    assert block.theta.weight.shape == (128, 256, 1, 1)
    assert block.out_conv.weight.shape == (256, 128, 1, 1)


# --- tiny spatial attention --------------------------------------------------------------------


def test_tsa_has_exactly_ten_parameters():
    assert n_params(TinySpatialAttention()) == 10


def test_tsa_matches_hand_computation():
    tsa = TinySpatialAttention()
    x = torch.randn(2, 5, 4, 3)
    mean = x.mean(1, keepdim=True)
    padded = F.pad(mean, (1, 1, 1, 1))
    kernel = tsa.conv.weight[0, 0]
    logits = torch.empty(2, 1, 4, 3)
    for h in range(4):
        for w in range(3):
            logits[:, 0, h, w] = (padded[:, 0, h : h + 3, w : w + 3] * kernel).sum((1, 2))
    expected_map = torch.sigmoid(logits + tsa.conv.bias)
    with torch.no_grad():
        attention = tsa.attention_map(x)
        assert attention.shape == (2, 1, 4, 3)
        assert torch.allclose(attention, expected_map, atol=1e-6)
        assert torch.allclose(tsa(x), x * expected_map, atol=1e-6)


# --- multi-scale global ------------------------------------------------------------------------


def test_msg_resnet50_channels_follow_the_spec():
    msg = MultiScaleGlobal(2048)
    assert msg.branches["b1"][0].weight.shape == (1024, 2048, 1, 1)
    assert msg.branches["b2"][0][0].weight.shape == (512, 2048, 1, 1)
    assert msg.branches["b2"][1][0].weight.shape == (1024, 512, 5, 5)
    assert msg.branches["b3"][1][0].weight.shape == (1024, 512, 3, 3)
    assert msg.branches["b3"][2][0].weight.shape == (1024, 1024, 3, 3)
    assert isinstance(msg.branches["b4"][0], torch.nn.AvgPool2d)
    assert msg.branches["b4"][1][0].weight.shape == (1024, 2048, 1, 1)
    assert msg.fuse[0].weight.shape == (2048, 4096, 1, 1)


@pytest.mark.parametrize("branches", [(1, 2, 3, 4), (1,), (2, 4)])
def test_msg_shape_and_residual(branches):
    msg = MultiScaleGlobal(64, branches).eval()
    f4 = torch.randn(2, 64, 8, 4)
    with torch.no_grad():
        g = msg(f4)
        assert g.shape == f4.shape
        assert torch.allclose(g - f4, msg.tsa(msg.fused(f4)), atol=1e-6)
    assert msg.fuse[0].in_channels == 32 * len(branches)
    assert msg.attention_map(f4).shape == (2, 1, 8, 4)


def test_msg_without_tsa_is_plain_residual_and_ten_parameters_lighter():
    torch.manual_seed(0)
    with_tsa = MultiScaleGlobal(64)
    torch.manual_seed(0)
    without = MultiScaleGlobal(64, tsa=False).eval()
    assert n_params(with_tsa) - n_params(without) == 10
    f4 = torch.randn(2, 64, 4, 2)
    with torch.no_grad():
        assert torch.allclose(without(f4), f4 + without.fused(f4))
    with pytest.raises(ValueError, match="tsa=False"):
        without.attention_map(f4)


@pytest.mark.parametrize("branches", [(), (1, 5), (1, 1)])
def test_msg_rejects_bad_branches(branches):
    with pytest.raises(ValueError, match="msg_branches"):
        MultiScaleGlobal(64, branches)


def test_msg_plain_convolutions_option():
    msg = MultiScaleGlobal(64, conv_bn_relu=False)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in msg.modules())
    assert msg.branches["b1"][0].bias is not None


# --- weight-driven parts -----------------------------------------------------------------------


def test_remainder_parts_six():
    p = torch.randn(2, 6, 5)
    t = remainder_parts(p)
    expected = [
        p[:, 1],
        p[:, 0] + p[:, 2],
        p[:, 1] + p[:, 3],
        p[:, 2] + p[:, 4],
        p[:, 3] + p[:, 5],
        p[:, 4],
    ]
    assert torch.allclose(t, torch.stack(expected, 1))


def test_remainder_parts_two():
    p = torch.randn(3, 2, 4)
    t = remainder_parts(p)
    assert torch.equal(t[:, 0], p[:, 1])
    assert torch.equal(t[:, 1], p[:, 0])


def test_remainder_parts_needs_two_parts():
    with pytest.raises(ValueError, match="at least 2 parts"):
        remainder_parts(torch.randn(1, 1, 4))


def test_parts_are_stripe_means_when_height_divides():
    wdp = WeightDrivenParts(4, num_parts=3)
    f4 = torch.randn(2, 4, 6, 2)
    parts = wdp.parts(f4)
    assert parts.shape == (2, 3, 4)
    for i in range(3):
        assert torch.allclose(parts[:, i], f4[:, :, 2 * i : 2 * i + 2].mean((2, 3)), atol=1e-6)


def test_parts_on_sixteen_rows_use_the_documented_overlapping_stripes():
    wdp = WeightDrivenParts(4, num_parts=6)
    f4 = torch.randn(1, 4, 16, 2)
    rows = [(0, 3), (2, 6), (5, 8), (8, 11), (10, 14), (13, 16)]
    parts = wdp.parts(f4)
    for i, (start, stop) in enumerate(rows):
        assert torch.allclose(parts[:, i], f4[:, :, start:stop].mean((2, 3)), atol=1e-6)


def test_parts_need_enough_rows():
    with pytest.raises(ValueError, match=r"num_parts=6.*height 4.*at least 6 rows.*96 pixels"):
        WeightDrivenParts(4, num_parts=6)(torch.randn(1, 4, 4, 2))


def test_adaptive_weights_lie_in_unit_interval_and_fuse():
    wdp = WeightDrivenParts(8, num_parts=6)
    f4 = torch.randn(3, 8, 12, 4) * 5
    fused, weights = wdp(f4)
    assert fused.shape == (3, 6, 8)
    assert weights.shape == (3, 6, 2)
    assert ((weights > 0) & (weights < 1)).all()
    parts = wdp.parts(f4)
    expected = weights[..., :1] * parts + weights[..., 1:] * remainder_parts(parts)
    assert torch.allclose(fused, expected)
    pair = torch.cat([parts[:, 2], remainder_parts(parts)[:, 2]], 1)
    assert torch.allclose(weights[:, 2], wdp.weights[0](pair))


def test_fixed_fusion_is_point_eight_point_two():
    wdp = WeightDrivenParts(8, num_parts=4, fusion="fixed")
    assert n_params(wdp) == 0
    f4 = torch.randn(2, 8, 8, 2)
    fused, weights = wdp(f4)
    assert torch.allclose(weights[..., 0], torch.full((2, 4), 0.8))
    assert torch.allclose(weights[..., 1], torch.full((2, 4), 0.2))
    parts = wdp.parts(f4)
    assert torch.allclose(fused, 0.8 * parts + 0.2 * remainder_parts(parts))


def test_plain_fusion_gives_the_stripes_alone():
    wdp = WeightDrivenParts(8, num_parts=2, fusion="plain")
    f4 = torch.randn(2, 8, 4, 2)
    fused, _ = wdp(f4)
    assert torch.equal(fused, wdp.parts(f4))


def test_per_part_fc_option():
    shared = WeightDrivenParts(8, num_parts=6)
    per_part = WeightDrivenParts(8, num_parts=6, shared_fc=False)
    assert n_params(shared) == 2 * 8 * 256 + 256 + 256 * 2 + 2
    assert n_params(per_part) == 6 * n_params(shared)
    fused, weights = per_part(torch.randn(2, 8, 6, 2))
    assert fused.shape == (2, 6, 8) and weights.shape == (2, 6, 2)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"fusion": "soft"}, "part_fusion='soft'"), ({"num_parts": 1}, "num_parts=1")],
)
def test_wdp_rejects_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        WeightDrivenParts(8, **kwargs)


# --- heads -------------------------------------------------------------------------------------


def test_stage_head_pools_and_neck():
    head = StageHead(6, num_classes=5).eval()
    x = torch.randn(3, 6, 4, 2)
    with torch.no_grad():
        out = head(x)
    assert torch.allclose(out.avg, x.mean((2, 3)))
    assert torch.equal(out.max, x.flatten(2).max(2).values)
    bn = head.neck.bn
    expected_neck = (out.avg + out.max - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps)
    assert torch.allclose(out.neck, expected_neck, atol=1e-6)
    assert torch.allclose(out.logits, out.neck @ head.neck.classifier.weight.T, atol=1e-6)
    assert out.logits.shape == (3, 5)


def test_bn_neck_is_bias_free_with_frozen_bn_bias():
    neck = BNNeck(8, 3)
    assert neck.classifier.bias is None
    assert not neck.bn.bias.requires_grad


def test_global_head_shapes():
    out = GlobalHead(8, 4)(torch.randn(2, 8, 3, 2))
    assert out.feature.shape == (2, 8) and out.neck.shape == (2, 8) and out.logits.shape == (2, 4)


def test_part_heads_shapes():
    features, logits = PartHeads(6, 16, num_classes=7)(torch.randn(4, 6, 16))
    assert features.shape == (4, 6, 256)
    assert logits.shape == (4, 6, 7)
