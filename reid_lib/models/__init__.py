"""The model: backbone, non-local blocks, TSA, MSG, WDP, heads and the assembled network; and the
three models the paper compares with (a global ResNet, PCB and HPM)."""

from reid_lib.lazy_exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "ARCHS": "names",
        "build_any_model": "factory",
        "HPM": "hpm",
        "BranchOutput": "outputs",
        "GlobalOutput": "outputs",
        "ModelOutput": "outputs",
        "PartOutput": "outputs",
        "StageOutput": "outputs",
        "PCB": "pcb",
        "build_model": "reid_model",
        "EMBEDDINGS": "reid_model",
        "ReIDModel": "reid_model",
        "GlobalResNet": "resnet_global",
        "IDEResNet": "resnet_ide",
    },
)
