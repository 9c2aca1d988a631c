"""``build_dataset(name, root, **kwargs)``: one entry point for every dataset loader.

Names are case-insensitive and ignore ``-`` and ``_`` (``Market-1501``, ``dukemtmc-reid``); common
short forms (``market``, ``duke``, ``msmt``, ``prid``, ``caviar``) are accepted.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reid_lib.data.caviar4reid import CAVIAR4REID_RULE, load_caviar4reid
from reid_lib.data.dukemtmc_reid import DUKEMTMC_RULE, load_dukemtmc_reid
from reid_lib.data.grid import GRID_RULE, load_grid
from reid_lib.data.joint import JOINT_SETS, load_joint
from reid_lib.data.market1501 import MARKET1501_RULE, load_market1501
from reid_lib.data.msmt17 import MSMT17_RULE, load_msmt17
from reid_lib.data.naming import NameRule
from reid_lib.data.peta_training import SARC3D_RULE, TOWNCENTRE_RULE, load_peta_training
from reid_lib.data.prid2011 import PRID2011_RULE, load_prid2011
from reid_lib.data.records import ReIDDataset
from reid_lib.data.viper import VIPER_CAM_RULE, VIPER_FLAT_RULE, load_viper


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset's loader and the naming rules its image files follow."""

    load: Callable[..., ReIDDataset]
    name_rules: tuple[NameRule, ...]


def _load_joint(
    root: str | Path, *, split_index: int = 0, sets: Sequence[str] = JOINT_SETS
) -> ReIDDataset:
    """The joint training set of ``sets`` (:func:`reid_lib.data.joint.load_joint`)."""
    return load_joint(root, load=build_dataset, split_index=split_index, sets=sets)


DATASETS: dict[str, DatasetSpec] = {
    "market1501": DatasetSpec(load_market1501, (MARKET1501_RULE,)),
    "synthetic": DatasetSpec(
        functools.partial(load_market1501, name="synthetic"), (MARKET1501_RULE,)
    ),
    "dukemtmc_reid": DatasetSpec(load_dukemtmc_reid, (DUKEMTMC_RULE,)),
    "msmt17": DatasetSpec(load_msmt17, (MSMT17_RULE,)),
    "viper": DatasetSpec(load_viper, (VIPER_FLAT_RULE, VIPER_CAM_RULE)),
    "prid2011": DatasetSpec(load_prid2011, (PRID2011_RULE,)),
    "grid": DatasetSpec(load_grid, (GRID_RULE,)),
    "caviar4reid": DatasetSpec(load_caviar4reid, (CAVIAR4REID_RULE,)),
    "peta_training": DatasetSpec(load_peta_training, (TOWNCENTRE_RULE, SARC3D_RULE)),
    "joint": DatasetSpec(
        _load_joint,
        (VIPER_FLAT_RULE, VIPER_CAM_RULE, PRID2011_RULE, GRID_RULE, CAVIAR4REID_RULE),
    ),
}
#: The datasets with a training split only (pretraining material, joint training): a run on one
#: is not evaluated; the joint set's models are tested on each set it joins.
TRAIN_ONLY = ("peta_training", "joint")
ALIASES = {
    "market": "market1501",
    "duke": "dukemtmc_reid",
    "dukemtmc": "dukemtmc_reid",
    "msmt": "msmt17",
    "prid": "prid2011",
    "caviar": "caviar4reid",
}


def _normalise(name: str) -> str:
    return name.lower().replace("-", "").replace("_", "")


def dataset_spec(name: str) -> DatasetSpec:
    """The :class:`DatasetSpec` registered under ``name`` (or one of its aliases).

    Raises:
        ValueError: unknown name; the message lists the known ones.
    """
    known = {_normalise(key): key for key in [*DATASETS, *ALIASES]}
    key = known.get(_normalise(name), "")
    key = ALIASES.get(key, key)
    if key not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; expected one of {', '.join(sorted(DATASETS))}")
    return DATASETS[key]


def has_protocol_splits(name: str) -> bool:
    """Whether dataset ``name`` comes in numbered protocol splits (its loader takes
    ``split_index``), as the small real benchmarks do."""
    return "split_index" in inspect.signature(dataset_spec(name).load).parameters


def build_dataset(name: str, root: str | Path, **kwargs: Any) -> ReIDDataset:
    """Load dataset ``name`` from ``root``; ``kwargs`` go to its loader (e.g. ``split_index``)."""
    return dataset_spec(name).load(root, **kwargs)
