"""One entry point for every model the book trains: the paper's and the three it compares with.

``arch`` names the model: ``tang2022`` (the paper's, :func:`~reid_lib.models.build_model`),
``resnet_ide`` (:class:`~reid_lib.models.resnet_ide.IDEResNet`), ``resnet_global``
(:class:`~reid_lib.models.resnet_global.GlobalResNet`, Bag of Tricks), ``pcb``
(:class:`~reid_lib.models.pcb.PCB`) or ``hpm`` (:class:`~reid_lib.models.hpm.HPM`); and two that
no optimiser trains: the colour-histogram floor (``colour_histogram``) and LOMO + XQDA
(``lomo_xqda``). Every one
takes the same backbones and initialisations. The switches of the paper's modules (``non_local``,
``msg``, ``tsa``, ``wdp``, ...) belong to ``tang2022`` and are not read by the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from torch import nn

from reid_lib.models.backbone import build_backbone
from reid_lib.models.colour_histogram import ColourHistogram
from reid_lib.models.hpm import HPM, PYRAMID
from reid_lib.models.lomo_xqda import LomoXqda
from reid_lib.models.names import ARCHS
from reid_lib.models.pcb import PCB
from reid_lib.models.reid_model import build_model
from reid_lib.models.resnet_global import GlobalResNet
from reid_lib.models.resnet_ide import IDEResNet


def build_any_model(
    num_classes: int,
    *,
    arch: str = "tang2022",
    backbone: str = "resnet50",
    pretrained: str | Path | None = None,
    num_parts: int = 6,
    hpm_bins: Sequence[int] = PYRAMID,
    pcb_stripes: int = 6,
    **paper_options: Any,
) -> nn.Module:
    """The model ``arch`` (see the module docstring); ``num_parts`` is the part count of
    ``tang2022``, ``pcb_stripes`` PCB's and ``hpm_bins`` HPM's pyramid; ``paper_options`` go to
    :func:`~reid_lib.models.build_model`.

    Raises:
        ValueError: an unknown ``arch`` (the message lists them).
    """
    if arch == "tang2022":
        return build_model(
            num_classes,
            backbone=backbone,
            pretrained=pretrained,
            num_parts=num_parts,
            **paper_options,
        )
    if arch not in ARCHS:
        raise ValueError(f"arch={arch!r} is unknown; expected one of {list(ARCHS)}")
    if arch == "colour_histogram":
        return ColourHistogram()
    if arch == "lomo_xqda":
        return LomoXqda()
    resnet = build_backbone(backbone, pretrained)
    if arch == "resnet_ide":
        return IDEResNet(resnet, num_classes)
    if arch == "resnet_global":
        return GlobalResNet(resnet, num_classes)
    if arch == "pcb":
        return PCB(resnet, num_classes, pcb_stripes)
    return HPM(resnet, num_classes, hpm_bins)
