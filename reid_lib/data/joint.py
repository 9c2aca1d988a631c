"""Joint training over several small benchmarks: one classifier over the union of their training
identities, as Xiao et al. train one network on many datasets ("Learning Deep Feature
Representations with Domain Guided Dropout for Person Re-identification", CVPR 2016).

The joint set has a train split only: the union of each set's training split under the same
protocol split index, so no set's test identities are ever trained on. Each set is then tested
under its own protocol (``reid_lib.studies.test_sets.joint_test_sets``). Ours: the sets' ids and
cameras are kept apart (offsets of :data:`PID_STRIDE` and :data:`CAMERA_STRIDE` per set); the
records keep their set's name in ``extra["source"]``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path

from reid_lib.data.records import ReIDDataset
from reid_lib.data.registry import SMALL_REAL_SETS

#: The sets trained together by default: the four small benchmarks.
JOINT_SETS = tuple(SMALL_REAL_SETS)
PID_STRIDE = 1_000_000
CAMERA_STRIDE = 100


def load_joint(
    root: str | Path,
    *,
    load: Callable[..., ReIDDataset],
    split_index: int = 0,
    sets: Sequence[str] = JOINT_SETS,
) -> ReIDDataset:
    """The training splits of ``sets`` (each read from its folder under ``root``, the data root,
    by ``load(name, folder, split_index=...)``) as one training set.

    Raises:
        ValueError: an empty ``sets``, a set named twice, or one not of the small benchmarks.
        DatasetLayoutError: a set's folder is missing (named, with its layout).
    """
    unknown = [name for name in sets if name not in SMALL_REAL_SETS]
    if not sets or unknown or len(set(sets)) < len(sets):
        raise ValueError(
            f"data.joint_sets={list(sets)}: expected some of {list(SMALL_REAL_SETS)}, each once"
        )
    records = []
    for index, name in enumerate(sets):
        part = load(name, Path(root) / SMALL_REAL_SETS[name], split_index=split_index)
        records += [
            dataclasses.replace(
                r,
                pid=index * PID_STRIDE + r.extra["orig_pid"],
                camid=index * CAMERA_STRIDE + r.camid,
                extra={**r.extra, "source": name},
            )
            for r in part.train
        ]
    return ReIDDataset(
        "joint",
        root,
        records,
        (),
        (),
        protocol=f"training splits {split_index} of {', '.join(sets)}, one classifier",
        allow_empty=("query", "gallery"),
    )
