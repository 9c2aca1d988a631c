"""The assembled model of Tang et al. (2022) and :func:`build_model`.

Layout (shapes for a 256x128 input and ResNet-50)::

    stem -> stage1 [256x64x32] -> NL -> stage2 [512x32x16] -> NL -> stage3 [1024x16x8]
         -> stage4 [2048x16x8] (last stride 1)
    stage3 -> StageHead            a3, m3, BN(a3 + m3), logits
    stage4 -> StageHead            a4, m4, BN(a4 + m4), logits
    stage4 -> MSG -> GlobalHead    G = F4 + TSA(fused branches), BN(avg(G)), logits
    stage4 -> WDP -> PartHeads     P fused parts, fusion weights, P x (256-d feature, logits)

Every ablation flag removes its module entirely (``non_local=False``, ``msg=False``, ``tsa=False``,
``wdp=False``); ``part_fusion`` picks how WDP fuses each part with its remainder. Train mode returns
a :class:`~reid_lib.models.outputs.ModelOutput`; eval mode returns the L2-normalised embedding of
:data:`EMBEDDINGS` ``[embedding]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from reid_lib.models.backbone import ResNetBackbone, build_backbone, check_images
from reid_lib.models.heads import GlobalHead, StageHead
from reid_lib.models.multi_scale_global import BRANCHES, MultiScaleGlobal
from reid_lib.models.nonlocal_block import NonLocalBlock
from reid_lib.models.outputs import ModelOutput, PartOutput
from reid_lib.models.part_heads import PartHeads
from reid_lib.models.weight_driven_parts import WeightDrivenParts

# Embedding option -> the features concatenated (then L2-normalised) at test time.
# "paper": BN(a3 + m3) and BN(a4 + m4), as the paper tests (3072-d for ResNet-50). Ours: "msg"
# appends the MSG head's BN feature (C4-d), "parts" the P part heads' 256-d BN features.
EMBEDDINGS = {
    "paper": ("stage3", "stage4"),
    "paper+msg": ("stage3", "stage4", "msg"),
    "paper+parts": ("stage3", "stage4", "parts"),
    "all": ("stage3", "stage4", "msg", "parts"),
}
NON_LOCAL_STAGES = ("stage1", "stage2")
HEAD_STAGES = ("stage3", "stage4")


class ReIDModel(nn.Module):
    """Backbone, non-local blocks, stage heads, MSG and WDP (see the module docstring).

    Args:
        backbone: a last-stride-1 :class:`ResNetBackbone`.
        num_classes: number of training identities ``K``.
        non_local: a non-local block after stage1 and after stage2.
        msg_branches: MSG branches to use; ``None`` removes MSG and its head.
        tsa: TSA inside MSG (ignored without MSG).
        msg_conv_bn_relu: BatchNorm + ReLU after each MSG convolution (spec option, ours: on).
        wdp: the part branch (WDP and the part heads); False removes it.
        part_fusion: ``"plain"`` (stripes alone), ``"fixed"`` or ``"adaptive"`` (the paper's).
        num_parts: ``P``; the stage4 map needs at least ``P`` rows (image height >= 16 P).
        wdp_shared_fc: WDP's weight FCs shared over the parts (spec) or one pair per part.
        embedding: a key of :data:`EMBEDDINGS`.

    Attributes:
        embedding_dim: ``D`` of the eval-mode output ``[N, D]``.
    """

    def __init__(
        self,
        backbone: ResNetBackbone,
        num_classes: int,
        *,
        non_local: bool = True,
        msg_branches: Sequence[int] | None = BRANCHES,
        tsa: bool = True,
        msg_conv_bn_relu: bool = True,
        wdp: bool = True,
        part_fusion: str = "adaptive",
        num_parts: int = 6,
        wdp_shared_fc: bool = True,
        embedding: str = "paper",
    ) -> None:
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"num_classes={num_classes}: expected a positive number of identities")
        if embedding not in EMBEDDINGS:
            raise ValueError(
                f"embedding={embedding!r} is unknown; expected one of {list(EMBEDDINGS)}"
            )
        channels = backbone.stage_channels
        c4 = channels["stage4"]
        self.backbone = backbone
        self.non_local = (
            nn.ModuleDict({s: NonLocalBlock(channels[s]) for s in NON_LOCAL_STAGES})
            if non_local
            else None
        )
        self.heads = nn.ModuleDict({s: StageHead(channels[s], num_classes) for s in HEAD_STAGES})
        self.msg = self.msg_head = None
        if msg_branches is not None:
            self.msg = MultiScaleGlobal(c4, msg_branches, tsa=tsa, conv_bn_relu=msg_conv_bn_relu)
            self.msg_head = GlobalHead(c4, num_classes)
        self.wdp = self.part_heads = None
        if wdp:
            self.wdp = WeightDrivenParts(c4, num_parts, part_fusion, shared_fc=wdp_shared_fc)
            self.part_heads = PartHeads(num_parts, c4, num_classes)
        dims = {s: channels[s] for s in HEAD_STAGES}
        dims["msg"] = c4 if self.msg is not None else None
        dims["parts"] = num_parts * self.part_heads.reduced if self.part_heads is not None else None
        absent = [name for name in EMBEDDINGS[embedding] if dims[name] is None]
        if absent:
            raise ValueError(
                f"embedding={embedding!r} needs the {' and '.join(absent)} branch, which this "
                "model does not have (msg=False or wdp=False); use embedding='paper'"
            )
        self.embedding = embedding
        self.embedding_dim = sum(dims[name] for name in EMBEDDINGS[embedding])

    def stage_maps(self, images: Tensor, *, before_non_local: bool = False) -> dict[str, Tensor]:
        """``[N, 3, H, W] -> {"stage1": ..., "stage4": ...}``, the backbone's maps.

        ``stage1``/``stage2`` are taken after their non-local blocks, or, with
        ``before_non_local=True``, as they enter them.
        """
        check_images(images)
        maps, x = {}, self.backbone.stem(images)
        for i, stage in enumerate(("stage1", "stage2", "stage3", "stage4"), start=1):
            x = getattr(self.backbone, f"layer{i}")(x)
            if before_non_local:
                maps[stage] = x
            if self.non_local is not None and stage in self.non_local:
                x = self.non_local[stage](x)
            maps.setdefault(stage, x)
        return maps

    def nonlocal_affinity(self, images: Tensor, stage: str = "stage1") -> Tensor:
        """``[N, 3, H, W] -> [N, HW, HW]``: the affinity of the non-local block after ``stage``."""
        if self.non_local is None or stage not in self.non_local:
            raise ValueError(
                f"stage={stage!r}: this model has non-local blocks after "
                f"{list(self.non_local or [])}"
            )
        return self.non_local[stage].affinity(self.stage_maps(images, before_non_local=True)[stage])

    def forward(self, images: Tensor) -> ModelOutput | Tensor:
        """Train mode: :class:`ModelOutput`; eval mode: the embedding ``[N, embedding_dim]``."""
        maps = self.stage_maps(images)
        if self.training:
            return self.outputs(maps)
        return self.embed(self.outputs(maps, branches=EMBEDDINGS[self.embedding]))

    def outputs(
        self, maps: dict[str, Tensor], branches: Sequence[str] = ("msg", "parts")
    ) -> ModelOutput:
        """The heads on :meth:`stage_maps`; the MSG and part branches only when in ``branches``."""
        f4 = maps["stage4"]
        msg = None
        if self.msg is not None and "msg" in branches:
            msg = self.msg_head(self.msg(f4))
        parts = None
        if self.wdp is not None and "parts" in branches:
            fused, weights = self.wdp(f4)
            embeddings, logits = self.part_heads(fused)
            parts = PartOutput(fused=fused, weights=weights, embeddings=embeddings, logits=logits)
        return ModelOutput(
            stages={s: head(maps[s]) for s, head in self.heads.items()}, msg=msg, parts=parts
        )

    def embed(self, output: ModelOutput) -> Tensor:
        """``ModelOutput -> [N, embedding_dim]``: chosen features, concatenated, L2-normalised."""
        features = {s: out.neck for s, out in output.stages.items()}
        if output.msg is not None:
            features["msg"] = output.msg.neck
        if output.parts is not None:
            features["parts"] = output.parts.embeddings.flatten(1)
        return F.normalize(torch.cat([features[k] for k in EMBEDDINGS[self.embedding]], dim=1))


def build_model(
    num_classes: int,
    *,
    backbone: str = "resnet50",
    pretrained: str | Path | None = None,
    msg: bool = True,
    msg_branches: Sequence[int] = BRANCHES,
    **options: Any,
) -> ReIDModel:
    """Build the paper's model, or one of its ablations.

    Args:
        num_classes: number of training identities.
        backbone: ``"resnet50"`` (the paper's), ``"resnet34"`` or ``"resnet18"``.
        pretrained: ``None`` (random), ``"imagenet"`` or a path to a torchvision state dict; see
            :func:`~reid_lib.models.backbone.build_backbone`.
        msg: the multi-scale global module and its head.
        msg_branches: which MSG branches (1..4) to use.
        options: the other switches of :class:`ReIDModel`, by name: ``non_local``, ``tsa``,
            ``msg_conv_bn_relu``, ``wdp``, ``part_fusion``, ``num_parts``, ``wdp_shared_fc``,
            ``embedding`` (the config's ``model`` section holds each).
    """
    return ReIDModel(
        build_backbone(backbone, pretrained),
        num_classes,
        msg_branches=msg_branches if msg else None,
        **options,
    )
