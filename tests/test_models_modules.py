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


def _explicit_nonlocal(block: NonLocalBlock, x: torch.Tensor) -> torch.Tensor:
    """The block as the spec writes it: the affinity matrix stored, then multiplied by g."""
    n, _, h, w = x.shape
    g = block.g(x).flatten(2).transpose(1, 2)
    y = (block.affinity(x) @ g).transpose(1, 2).reshape(n, -1, h, w)
    return x + block.out_bn(block.out_conv(y))


@pytest.mark.parametrize(
    ("channels", "height", "width"),
    [(256, 64, 32), (512, 32, 16)],
    ids=["after-stage1", "after-stage2"],
)
def test_fused_nonlocal_equals_the_explicit_affinity(channels, height, width):
    """At the paper's stage1/stage2 shapes (ResNet-50, 256x128), the fused attention kernel gives
    the explicit form's output and gradients within 1e-5 of their scale (float32 rounding).

    The scale of the output and of the input gradient is their largest magnitude; that of the
    parameter gradients is the largest over the block, because some of them are zero up to
    rounding (phi's bias does not change a softmax; BatchNorm cancels out_conv's bias)."""
    torch.manual_seed(0)
    block = NonLocalBlock(channels).train()
    torch.nn.init.normal_(block.out_bn.weight)  # away from the identity at initialisation
    x = torch.randn(2, channels, height, width)
    probe = torch.randn(2, channels, height, width)

    def output_and_grads(forward):
        block.zero_grad(set_to_none=True)
        inp = x.clone().requires_grad_(True)
        out = forward(inp)
        (out * probe).sum().backward()
        return out.detach(), inp.grad, {name: p.grad for name, p in block.named_parameters()}

    def assert_close_to_scale(actual, expected, scale, what):
        difference = (actual - expected).abs().max()
        assert difference <= 1e-5 * scale, f"{what}: differs by {difference} at scale {scale}"

    out, x_grad, grads = output_and_grads(block)
    ref_out, ref_x_grad, ref_grads = output_and_grads(lambda inp: _explicit_nonlocal(block, inp))
    assert_close_to_scale(out, ref_out, ref_out.abs().max(), "output")
    assert_close_to_scale(x_grad, ref_x_grad, ref_x_grad.abs().max(), "input gradient")
    assert grads.keys() == ref_grads.keys()
    param_scale = max(g.abs().max() for g in ref_grads.values())
    for name, grad in grads.items():
        assert_close_to_scale(grad, ref_grads[name], param_scale, name)


def test_nonlocal_block_does_not_store_the_affinity():
    """The fused kernel saves no ``HW x HW`` tensor for the backward pass (the explicit form does:
    the affinity, 16 MiB per image after stage1 of a 256x128 image)."""
    block = NonLocalBlock(16).train()
    x = torch.randn(2, 16, 8, 4, requires_grad=True)
    positions = 8 * 4
    for forward, stores in ((block, False), (lambda v: _explicit_nonlocal(block, v), True)):
        shapes = []

        def keep(tensor, shapes=shapes):
            shapes.append(tuple(tensor.shape))
            return tensor

        with torch.autograd.graph.saved_tensors_hooks(keep, lambda tensor: tensor):
            forward(x)
        assert any(shape[-2:] == (positions, positions) for shape in shapes) is stores


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


@pytest.mark.parametrize("conv_bn_relu", [True, False])
def test_msg_fuses_branch_by_branch_as_the_concatenation_would(conv_bn_relu):
    """The fusing convolution applied slice by slice equals it on the concatenation (output and
    gradients, float32 rounding), and no ``2C``-channel concatenation is kept for backward."""
    torch.manual_seed(0)
    msg = MultiScaleGlobal(64, conv_bn_relu=conv_bn_relu).train()
    f4 = torch.randn(4, 64, 8, 4)
    probe = torch.randn(4, 64, 8, 4)

    def concatenated(x):
        return msg.fuse(torch.cat([branch(x) for branch in msg.branches.values()], dim=1))

    results = []
    for fused in (msg.fused, concatenated):
        msg.zero_grad(set_to_none=True)
        x = f4.clone().requires_grad_(True)
        shapes = []

        def keep(tensor, shapes=shapes):
            shapes.append(tuple(tensor.shape))
            return tensor

        with torch.autograd.graph.saved_tensors_hooks(keep, lambda tensor: tensor):
            out = fused(x)
        (out * probe).sum().backward()
        results.append((out.detach(), x.grad, [p.grad for p in msg.parameters()], shapes))
    (out, x_grad, grads, shapes), (ref_out, ref_x_grad, ref_grads, ref_shapes) = results
    torch.testing.assert_close(out, ref_out, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(x_grad, ref_x_grad, atol=1e-5, rtol=1e-5)
    for grad, ref in zip(grads, ref_grads, strict=True):
        if ref is not None:
            torch.testing.assert_close(grad, ref, atol=1e-4, rtol=1e-4)
    concatenation = (4, 4 * 32, 8, 4)
    assert concatenation in ref_shapes and concatenation not in shapes


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
