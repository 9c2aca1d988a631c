"""Datasets, the synthetic generator, samplers, transforms and loaders."""

from reid_lib.data.records import EmptySplitError, Record, ReIDDataset, relabel

__all__ = ["EmptySplitError", "ReIDDataset", "Record", "relabel"]
