"""ResNet backbone in torchvision's module layout, with last stride 1.

Paper: ResNet-50 backbone, stages stage0..stage4. Spec/ours: last stride 1 (stage4 keeps the 16x8
map of a 256x128 input, as in PCB and the strong baselines); ``resnet18``/``resnet34`` are accepted
so CPU profiles can stay small. Module names are torchvision's (``conv1``, ``bn1``, ``layer1`` ...),
so a torchvision state dict loads by name; its classifier (``fc.*``) is ignored.

Initialisation is never silent: :func:`build_backbone` logs which one was used, and fails with a
clear error when ImageNet weights were asked for and cannot be had.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import torch
import torchvision
from torch import Tensor, nn

from reid_lib.torch_files import load_tensors

logger = logging.getLogger(__name__)

# name -> (torchvision constructor, ImageNet weights enum member)
BACKBONES = {
    "resnet18": (torchvision.models.resnet18, torchvision.models.ResNet18_Weights.IMAGENET1K_V1),
    "resnet34": (torchvision.models.resnet34, torchvision.models.ResNet34_Weights.IMAGENET1K_V1),
    "resnet50": (torchvision.models.resnet50, torchvision.models.ResNet50_Weights.IMAGENET1K_V1),
}
# Keys of a torchvision ResNet state dict that the backbone does not hold.
CLASSIFIER_PREFIX = "fc."
OPTIONAL_SUFFIX = "num_batches_tracked"


class ResNetBackbone(nn.Module):
    """torchvision ResNet without its pooling and classifier.

    Shapes for a ``[N, 3, 256, 128]`` input and ResNet-50 (ResNet-18/34 have 64/128/256/512
    channels instead of 256/512/1024/2048):

    - ``stem`` (stage0: conv1, bn1, relu, maxpool): ``[N, 64, 64, 32]``
    - ``layer1`` (stage1): ``[N, 256, 64, 32]``
    - ``layer2`` (stage2): ``[N, 512, 32, 16]``
    - ``layer3`` (stage3): ``[N, 1024, 16, 8]``
    - ``layer4`` (stage4, stride 1): ``[N, 2048, 16, 8]``

    Attributes:
        stage_channels: output channels of ``stage1..stage4``.
    """

    def __init__(self, resnet: torchvision.models.ResNet) -> None:
        super().__init__()
        self.conv1 = resnet.conv1
        self.bn1 = resnet.bn1
        self.relu = resnet.relu
        self.maxpool = resnet.maxpool
        self.layer1 = resnet.layer1
        self.layer2 = resnet.layer2
        self.layer3 = resnet.layer3
        self.layer4 = resnet.layer4
        self.stage_channels = {
            f"stage{i}": _out_channels(getattr(self, f"layer{i}")) for i in range(1, 5)
        }

    def stem(self, x: Tensor) -> Tensor:
        """stage0: ``[N, 3, H, W] -> [N, 64, H/4, W/4]``."""
        return self.maxpool(self.relu(self.bn1(self.conv1(x))))

    def stage_maps(self, images: Tensor) -> dict[str, Tensor]:
        """``[N, 3, H, W] -> {"stage1": ..., "stage4": ...}``, the four stages' maps."""
        check_images(images)
        maps, x = {}, self.stem(images)
        for i in range(1, 5):
            x = maps[f"stage{i}"] = getattr(self, f"layer{i}")(x)
        return maps

    def forward(self, x: Tensor) -> Tensor:
        """``[N, 3, H, W] -> [N, C4, H/16, W/16]`` (the stage4 map)."""
        x = self.layer2(self.layer1(self.stem(x)))
        return self.layer4(self.layer3(x))


def check_images(images: Tensor) -> None:
    """Raise a ValueError that names the shape or dtype unless ``images`` is float [N, 3, H, W]."""
    if images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(
            f"images: expected a float tensor [N, 3, H, W], got shape {tuple(images.shape)}"
        )
    if not images.is_floating_point():
        raise ValueError(f"images: expected a float tensor, got dtype {images.dtype}")


def _out_channels(layer: nn.Sequential) -> int:
    block = layer[-1]
    last_bn = block.bn3 if hasattr(block, "bn3") else block.bn2
    return last_bn.num_features


def _set_last_stride_one(resnet: torchvision.models.ResNet) -> None:
    """Make stage4 keep its input's resolution (the first block's strided conv and shortcut)."""
    first = resnet.layer4[0]
    strided_conv = first.conv2 if hasattr(first, "conv3") else first.conv1
    strided_conv.stride = (1, 1)
    first.downsample[0].stride = (1, 1)


def _imagenet_state_dict(name: str) -> dict[str, Tensor]:
    weights = BACKBONES[name][1]
    try:
        return torch.hub.load_state_dict_from_url(weights.url, progress=False, check_hash=True)
    except (OSError, RuntimeError) as err:
        cache = Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name
        raise RuntimeError(
            f"pretrained='imagenet' asked for torchvision's {weights} weights of {name!r}, but "
            f"they cannot be had: no file at {cache} and the download from {weights.url} failed "
            f"({err}). Put that file there, pass pretrained=<path to a torchvision-format state "
            "dict>, or pass pretrained=None for a random initialisation."
        ) from err


def _file_state_dict(path: Path) -> Mapping[str, Tensor]:
    if not path.is_file():
        raise FileNotFoundError(
            f"pretrained={str(path)!r}: no such file; expected a torchvision-format ResNet "
            "state dict saved with torch.save(model.state_dict(), path)"
        )
    state = load_tensors(path, f"pretrained={str(path)!r}")
    if not isinstance(state, Mapping):
        raise ValueError(
            f"pretrained={str(path)!r}: expected a state dict (a mapping of names to tensors), "
            f"got {type(state).__name__}"
        )
    not_tensors = [k for k, v in state.items() if not isinstance(v, Tensor)]
    if not_tensors:
        raise ValueError(
            f"pretrained={str(path)!r}: expected a state dict (a mapping of names to tensors); "
            f"the entries {not_tensors[:8]} are not tensors (a training checkpoint? save "
            "model.state_dict() instead)"
        )
    return state


def _check_keys(backbone: nn.Module, state: Mapping[str, Tensor], source: str) -> None:
    expected = backbone.state_dict()
    given = {k: v for k, v in state.items() if not k.startswith(CLASSIFIER_PREFIX)}
    # BatchNorm fills a missing num_batches_tracked itself (older torchvision files lack it).
    missing = sorted(k for k in set(expected) - set(given) if not k.endswith(OPTIONAL_SUFFIX))
    unexpected = sorted(set(given) - set(expected))
    mismatched = [
        f"{k}: file {tuple(given[k].shape)} vs model {tuple(expected[k].shape)}"
        for k in sorted(set(given) & set(expected))
        if given[k].shape != expected[k].shape
    ]
    problems = [
        f"{label} ({len(keys)}): {', '.join(keys[:8])}{' ...' if len(keys) > 8 else ''}"
        for label, keys in (
            ("missing keys", missing),
            ("unexpected keys", unexpected),
            ("shape mismatches", mismatched),
        )
        if keys
    ]
    if problems:
        raise ValueError(
            f"pretrained={source}: the state dict does not match the backbone; "
            + "; ".join(problems)
        )


def build_backbone(name: str = "resnet50", pretrained: str | Path | None = None) -> ResNetBackbone:
    """Build a last-stride-1 ResNet backbone and initialise it.

    Args:
        name: ``"resnet18"``, ``"resnet34"`` or ``"resnet50"``.
        pretrained: ``None`` (torchvision's random initialisation), ``"imagenet"`` (torchvision's
            ``IMAGENET1K_V1`` weights, from the torch hub cache or downloaded), or the path of a
            torchvision-format ResNet state dict (``fc.*`` keys are ignored).

    Raises:
        ValueError: unknown ``name``; a state dict whose keys or shapes do not match.
        FileNotFoundError: ``pretrained`` names a file that does not exist.
        RuntimeError: ``pretrained="imagenet"`` and the weights cannot be had.
    """
    if name not in BACKBONES:
        raise ValueError(f"backbone={name!r} is unknown; expected one of {sorted(BACKBONES)}")
    resnet = BACKBONES[name][0](weights=None)
    _set_last_stride_one(resnet)
    backbone = ResNetBackbone(resnet)
    if pretrained is None:
        logger.info("backbone %s: random initialisation (torchvision's default)", name)
        return backbone
    if pretrained == "imagenet":
        state, source = _imagenet_state_dict(name), f"'imagenet' ({BACKBONES[name][1]})"
    else:
        state, source = _file_state_dict(Path(pretrained)), repr(str(pretrained))
    _check_keys(backbone, state, source)
    backbone.load_state_dict(
        {k: v for k, v in state.items() if not k.startswith(CLASSIFIER_PREFIX)}, strict=True
    )
    logger.info("backbone %s: initialised from %s", name, source)
    return backbone
