import logging
import urllib.error

import pytest
import torch
import torchvision

from reid_lib.models.backbone import BACKBONES, build_backbone
from tests.unsafe_pickle import RunsCode


@pytest.mark.parametrize(
    ("name", "channels"),
    [("resnet18", (64, 128, 256, 512)), ("resnet50", (256, 512, 1024, 2048))],
)
def test_stage_shapes_and_last_stride_one(name, channels):
    backbone = build_backbone(name).eval()
    x = torch.randn(2, 3, 64, 32)
    with torch.no_grad():
        f1 = backbone.layer1(backbone.stem(x))
        f2 = backbone.layer2(f1)
        f3 = backbone.layer3(f2)
        f4 = backbone.layer4(f3)
    assert f1.shape == (2, channels[0], 16, 8)
    assert f2.shape == (2, channels[1], 8, 4)
    assert f3.shape == (2, channels[2], 4, 2)
    assert f4.shape == (2, channels[3], 4, 2)  # last stride 1: same size as stage3
    assert backbone.stage_channels == {f"stage{i + 1}": c for i, c in enumerate(channels)}
    assert torch.equal(backbone(x), backbone.layer4(backbone.layer3(f2)))


def test_unknown_backbone_is_named():
    with pytest.raises(ValueError, match=r"backbone='resnet101' is unknown.*resnet50"):
        build_backbone("resnet101")


def test_resnet50_state_dict_loads_by_name(tmp_path):
    reference = torchvision.models.resnet50(weights=None)
    for p in reference.parameters():
        torch.nn.init.normal_(p)
    for name, buf in reference.named_buffers():
        if name.endswith("running_var"):
            buf.uniform_(0.5, 2.0)
        elif name.endswith("running_mean"):
            buf.normal_()
    path = tmp_path / "resnet50.pth"
    torch.save(reference.state_dict(), path)

    backbone = build_backbone("resnet50", pretrained=path)

    loaded = backbone.state_dict()
    source = {k: v for k, v in reference.state_dict().items() if not k.startswith("fc.")}
    assert set(loaded) == set(source)
    for key, tensor in source.items():
        assert torch.equal(loaded[key], tensor), key
    # last stride 1 survives loading
    assert backbone.layer4[0].conv2.stride == (1, 1)
    assert backbone.layer4[0].downsample[0].stride == (1, 1)


def test_state_dict_of_another_architecture_lists_mismatches(tmp_path):
    path = tmp_path / "resnet18.pth"
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), path)
    with pytest.raises(ValueError, match=r"pretrained=.*resnet18\.pth") as err:
        build_backbone("resnet50", pretrained=path)
    message = str(err.value)
    assert "missing keys" in message and "layer1.0.conv3.weight" in message
    assert "shape mismatches" in message and "layer1.0.conv1.weight" in message


def test_unexpected_keys_are_listed(tmp_path):
    state = torchvision.models.resnet18(weights=None).state_dict()
    state["extra.weight"] = torch.zeros(1)
    path = tmp_path / "extra.pth"
    torch.save(state, path)
    with pytest.raises(ValueError, match=r"unexpected keys \(1\): extra\.weight"):
        build_backbone("resnet18", pretrained=path)


def test_missing_weights_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"pretrained=.*nowhere\.pth.*no such file"):
        build_backbone("resnet18", pretrained=tmp_path / "nowhere.pth")


def test_file_that_is_not_a_state_dict(tmp_path):
    path = tmp_path / "list.pth"
    torch.save([torch.zeros(1)], path)
    with pytest.raises(ValueError, match=r"expected a state dict.*got list"):
        build_backbone("resnet18", pretrained=path)


def test_a_malicious_or_truncated_weights_file_is_one_clear_error(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pth"
    torch.save({"conv1.weight": torch.zeros(1), "x": RunsCode(marker)}, evil)
    with pytest.raises(ValueError, match=r"pretrained='.*evil\.pth' was refused"):
        build_backbone("resnet18", pretrained=evil)
    assert not marker.exists()
    whole = tmp_path / "whole.pth"
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), whole)
    cut = tmp_path / "cut.pth"
    cut.write_bytes(whole.read_bytes()[:4096])
    with pytest.raises(ValueError, match=r"pretrained='.*cut\.pth' cannot be read"):
        build_backbone("resnet18", pretrained=cut)


def test_checkpoint_with_non_tensor_entries(tmp_path):
    path = tmp_path / "checkpoint.pth"
    torch.save({"epoch": 3, "state_dict": {}}, path)
    with pytest.raises(ValueError, match=r"entries \['epoch', 'state_dict'\] are not tensors"):
        build_backbone("resnet18", pretrained=path)


def test_unavailable_imagenet_weights_fail_clearly(monkeypatch, tmp_path):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", offline)
    with pytest.raises(RuntimeError, match=r"pretrained='imagenet'.*'resnet18'.*cannot be had"):
        build_backbone("resnet18", pretrained="imagenet")


def test_imagenet_weights_load_through_torch_hub(monkeypatch, caplog):
    reference = torchvision.models.resnet18(weights=None)
    urls = []

    def cached(url, **kwargs):
        urls.append(url)
        return reference.state_dict()

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", cached)
    with caplog.at_level(logging.INFO, logger="reid_lib.models.backbone"):
        backbone = build_backbone("resnet18", pretrained="imagenet")
    assert urls == [BACKBONES["resnet18"][1].url]
    assert torch.equal(backbone.conv1.weight, reference.conv1.weight)
    assert "initialised from 'imagenet'" in caplog.text


def test_random_initialisation_is_logged(caplog):
    with caplog.at_level(logging.INFO, logger="reid_lib.models.backbone"):
        build_backbone("resnet18")
    assert "resnet18: random initialisation" in caplog.text
