"""Datasets, the synthetic generator, samplers, transforms and loaders."""

from reid_lib.lazy_exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "build_dataset": "factory",
        "DatasetLayoutError": "layout",
        "BadNameError": "naming",
        "EmptySplitError": "records",
        "Record": "records",
        "ReIDDataset": "records",
        "relabel": "records",
    },
)
