"""The model: backbone, non-local blocks, TSA, MSG, WDP, heads and the assembled network."""

from reid_lib.models.outputs import GlobalOutput, ModelOutput, PartOutput, StageOutput
from reid_lib.models.reid_model import EMBEDDINGS, ReIDModel, build_model

__all__ = [
    "EMBEDDINGS",
    "GlobalOutput",
    "ModelOutput",
    "PartOutput",
    "ReIDModel",
    "StageOutput",
    "build_model",
]
