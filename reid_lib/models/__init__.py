"""The model: backbone, non-local blocks, TSA, MSG, WDP, heads and the assembled network; and the
three models the paper compares with (a global ResNet, PCB and HPM)."""

from reid_lib.models.factory import ARCHS, build_any_model
from reid_lib.models.hpm import HPM
from reid_lib.models.outputs import (
    BranchOutput,
    GlobalOutput,
    ModelOutput,
    PartOutput,
    StageOutput,
)
from reid_lib.models.pcb import PCB
from reid_lib.models.reid_model import EMBEDDINGS, ReIDModel, build_model
from reid_lib.models.resnet_global import GlobalResNet
from reid_lib.models.resnet_ide import IDEResNet

__all__ = [
    "ARCHS",
    "EMBEDDINGS",
    "HPM",
    "PCB",
    "BranchOutput",
    "GlobalOutput",
    "GlobalResNet",
    "IDEResNet",
    "ModelOutput",
    "PartOutput",
    "ReIDModel",
    "StageOutput",
    "build_any_model",
    "build_model",
]
