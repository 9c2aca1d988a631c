"""Datasets, the synthetic generator, samplers, transforms and loaders."""

from reid_lib.data.factory import build_dataset
from reid_lib.data.layout import DatasetLayoutError
from reid_lib.data.naming import BadNameError
from reid_lib.data.records import EmptySplitError, Record, ReIDDataset, relabel

__all__ = [
    "BadNameError",
    "DatasetLayoutError",
    "EmptySplitError",
    "ReIDDataset",
    "Record",
    "build_dataset",
    "relabel",
]
