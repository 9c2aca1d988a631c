import pytest
import torch

from reid_lib.losses import ReIDLoss
from reid_lib.models import EMBEDDINGS, ModelOutput, ReIDModel, build_model
from reid_lib.models.backbone import build_backbone

NUM_CLASSES = 5
# 96x32 keeps the stage4 map 6 rows high, enough for 6 parts, and the test fast.
IMAGES = torch.randn(4, 3, 96, 32)


def n_params(module: torch.nn.Module | None) -> int:
    return 0 if module is None else sum(p.numel() for p in module.parameters())


@pytest.fixture(scope="module")
def full18() -> ReIDModel:
    torch.manual_seed(0)
    return build_model(NUM_CLASSES, backbone="resnet18")


def test_train_output_holds_every_logit_and_feature(full18):
    out = full18.train()(IMAGES)
    assert isinstance(out, ModelOutput)
    assert set(out.stages) == {"stage3", "stage4"}
    for stage, channels in (("stage3", 256), ("stage4", 512)):
        s = out.stages[stage]
        assert s.avg.shape == s.max.shape == s.neck.shape == (4, channels)
        assert s.logits.shape == (4, NUM_CLASSES)
    assert out.msg.feature.shape == out.msg.neck.shape == (4, 512)
    assert out.msg.logits.shape == (4, NUM_CLASSES)
    assert out.parts.fused.shape == (4, 6, 512)
    assert out.parts.weights.shape == (4, 6, 2)
    assert out.parts.embeddings.shape == (4, 6, 256)
    assert out.parts.logits.shape == (4, 6, NUM_CLASSES)


def test_eval_returns_normalised_embedding(full18):
    full18.eval()
    with torch.no_grad():
        emb = full18(IMAGES)
    assert emb.shape == (4, full18.embedding_dim) == (4, 256 + 512)
    assert torch.allclose(emb.norm(dim=1), torch.ones(4))


def test_paper_embedding_is_concatenated_stage_necks(full18):
    full18.eval()
    with torch.no_grad():
        emb = full18(IMAGES)
        maps = full18.stage_maps(IMAGES)
        necks = [full18.heads[s](maps[s]).neck for s in ("stage3", "stage4")]
    expected = torch.cat(necks, 1)
    assert torch.allclose(emb, expected / expected.norm(dim=1, keepdim=True), atol=1e-6)


@pytest.mark.parametrize(
    ("embedding", "dim18", "dim50"),
    [
        ("paper", 256 + 512, 1024 + 2048),
        ("paper+msg", 256 + 512 + 512, 1024 + 2048 + 2048),
        ("paper+parts", 256 + 512 + 6 * 256, 1024 + 2048 + 6 * 256),
        ("all", 256 + 512 + 512 + 6 * 256, 1024 + 2048 + 2048 + 6 * 256),
    ],
)
def test_embedding_dimension_per_option(full18, embedding, dim18, dim50):
    assert set(EMBEDDINGS) == {"paper", "paper+msg", "paper+parts", "all"}
    model = ReIDModel(full18.backbone, NUM_CLASSES, embedding=embedding).eval()
    with torch.no_grad():
        emb = model(IMAGES)
    assert model.embedding_dim == dim18
    assert emb.shape == (4, dim18)
    assert torch.allclose(emb.norm(dim=1), torch.ones(4))
    assert ReIDModel(resnet50_backbone(), NUM_CLASSES, embedding=embedding).embedding_dim == dim50


_R50 = {}


def resnet50_backbone():
    if not _R50:
        _R50["backbone"] = build_backbone("resnet50")
    return _R50["backbone"]


def test_resnet50_paper_embedding_is_3072_d():
    model = ReIDModel(resnet50_backbone(), NUM_CLASSES, non_local=False, wdp=None).eval()
    with torch.no_grad():
        emb = model(torch.randn(2, 3, 64, 32))
    assert emb.shape == (2, 3072)


def test_stage_maps_and_affinity(full18):
    full18.eval()
    with torch.no_grad():
        maps = full18.stage_maps(IMAGES)
        before = full18.stage_maps(IMAGES, before_non_local=True)
        affinity = full18.nonlocal_affinity(IMAGES, "stage2")
    assert [tuple(m.shape) for m in maps.values()] == [
        (4, 64, 24, 8),
        (4, 128, 12, 4),
        (4, 256, 6, 2),
        (4, 512, 6, 2),
    ]
    assert torch.allclose(maps["stage1"], full18.non_local["stage1"](before["stage1"]))
    assert affinity.shape == (4, 48, 48)
    assert torch.allclose(affinity.sum(-1), torch.ones(4, 48))


# --- ablations ---------------------------------------------------------------------------------


def _build(**kwargs) -> ReIDModel:
    return build_model(NUM_CLASSES, **{"backbone": "resnet18", **kwargs})


def test_non_local_flag_removes_the_blocks(full18):
    model = _build(non_local=False)
    assert model.non_local is None
    assert n_params(full18) - n_params(model) == n_params(full18.non_local) > 0
    with pytest.raises(ValueError, match="stage='stage1'"):
        model.nonlocal_affinity(IMAGES)


def test_msg_flag_removes_module_and_head(full18):
    model = _build(msg=False)
    assert model.msg is None and model.msg_head is None
    assert n_params(full18) - n_params(model) == n_params(full18.msg) + n_params(full18.msg_head)
    assert model.train()(IMAGES).msg is None


def test_tsa_flag_removes_ten_parameters(full18):
    model = _build(tsa=False)
    assert model.msg.tsa is None
    assert n_params(full18) - n_params(model) == 10


def test_wdp_false_removes_the_part_branch(full18):
    model = _build(wdp=False)
    assert model.wdp is None and model.part_heads is None
    assert n_params(full18) - n_params(model) == n_params(full18.wdp) + n_params(full18.part_heads)
    assert model.train()(IMAGES).parts is None


def test_baseline_is_backbone_and_two_stage_heads(full18):
    model = _build(non_local=False, msg=False, wdp=False)
    assert n_params(model) == n_params(model.backbone) + n_params(model.heads)
    assert set(dict(model.named_children())) == {"backbone", "heads"}


def test_wdp_fusion_modes_differ_only_in_weight_fcs(full18):
    fixed = _build(part_fusion="fixed")
    assert n_params(full18) - n_params(fixed) == n_params(full18.wdp.weights)
    weights = fixed.train()(IMAGES).parts.weights
    assert torch.allclose(weights, torch.tensor([0.8, 0.2]).expand(4, 6, 2))
    plain = _build(part_fusion="plain").train()(IMAGES).parts.weights
    assert torch.equal(plain, torch.tensor([1.0, 0.0]).expand(4, 6, 2))


def test_spec_options_reach_the_modules(full18):
    per_part = _build(wdp_shared_fc=False)
    assert len(per_part.wdp.weights) == 6 and len(full18.wdp.weights) == 1
    plain_convs = _build(msg_conv_bn_relu=False)
    norms = [m for m in plain_convs.msg.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert norms == [], "msg_conv_bn_relu=False: MSG convolutions without BatchNorm"
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in full18.msg.modules())


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("images", "match"),
    [
        (torch.randn(3, 96, 32), r"images: expected a float tensor \[N, 3, H, W\].*\(3, 96, 32\)"),
        (torch.randn(2, 1, 96, 32), r"images: .*\(2, 1, 96, 32\)"),
        (torch.zeros(2, 3, 96, 32, dtype=torch.uint8), "images: expected a float tensor.*uint8"),
        (torch.randn(2, 3, 64, 32), r"num_parts=6.*height 4"),
    ],
)
def test_bad_images_are_rejected(full18, images, match):
    with pytest.raises(ValueError, match=match):
        full18.train()(images)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"backbone": "vgg16"}, "backbone='vgg16' is unknown"),
        ({"part_fusion": "soft"}, "part_fusion='soft' is unknown"),
        ({"embedding": "best"}, "embedding='best' is unknown"),
        ({"embedding": "paper+msg", "msg": False}, "embedding='paper\\+msg' needs the msg"),
        ({"embedding": "all", "wdp": False}, "needs the parts branch"),
        ({"msg_branches": (0, 1)}, "msg_branches"),
    ],
)
def test_bad_options_are_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        _build(**kwargs)


def test_num_classes_must_be_positive():
    with pytest.raises(ValueError, match="num_classes=0"):
        ReIDModel(resnet50_backbone(), 0)


def test_eval_runs_only_the_branches_its_embedding_needs(full18):
    calls = []
    hooks = [
        full18.msg.register_forward_hook(lambda *_: calls.append("msg")),
        full18.wdp.register_forward_hook(lambda *_: calls.append("wdp")),
    ]
    try:
        with torch.no_grad():
            full18.eval()(IMAGES)
            assert calls == []
            full18.train()(IMAGES)
            assert calls == ["msg", "wdp"]
    finally:
        for hook in hooks:
            hook.remove()


def test_all_embedding_concatenates_every_feature(full18):
    model = ReIDModel(full18.backbone, NUM_CLASSES, embedding="all").eval()
    with torch.no_grad():
        emb = model(IMAGES)
        out = model.outputs(model.stage_maps(IMAGES))
    parts = [out.stages["stage3"].neck, out.stages["stage4"].neck, out.msg.neck]
    expected = torch.cat([*parts, out.parts.embeddings.flatten(1)], 1)
    assert torch.allclose(emb, expected / expected.norm(dim=1, keepdim=True), atol=1e-6)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_training_step_and_embedding_on_cuda():
    torch.manual_seed(0)
    model = build_model(NUM_CLASSES, backbone="resnet18").cuda()
    images = IMAGES.repeat(2, 1, 1, 1).cuda()
    targets = torch.tensor([0, 0, 1, 1, 2, 2, 3, 3], device="cuda")
    loss = ReIDLoss()(model.train()(images), targets)
    loss.total.backward()
    assert loss.total.device.type == "cuda" and torch.isfinite(loss.total)
    assert all(p.grad is None or torch.isfinite(p.grad).all() for p in model.parameters())
    with torch.no_grad():
        emb = model.eval()(images)
    assert emb.device.type == "cuda" and emb.shape == (8, model.embedding_dim)
