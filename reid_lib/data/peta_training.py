"""PETA's training-only subsets with identity labels: TownCentre and SARC3D (pretraining material).

The project's stand-in for ImageNet pretraining trains on people that no evaluated set holds.
Two of PETA's four training-only subsets carry identity labels and are read here:

- ``TownCentre/<id>_<frame>.jpg``: 222 ids from one camera, frames of each person over time;
- ``SARC3D/<id>_<view>.png``: 50 ids, four views each (front, back, left, right).

CUHK and MIT carry no identity labels and are not used (our choice: the pretraining is a
supervised identity classification; see ``docs/model_spec.md``). The dataset has a train split
only: query and gallery are empty, so a run on it is never evaluated.

Ours: the two subsets' ids are kept apart (SARC3D's ids are offset by :data:`SARC3D_PID_OFFSET`);
camid 0 is TownCentre's camera, camid 1-4 SARC3D's views.
"""

from __future__ import annotations

from pathlib import Path

from reid_lib.data.layout import list_images, resolve_root
from reid_lib.data.naming import NameRule
from reid_lib.data.records import Record, ReIDDataset

TOWNCENTRE_RULE = NameRule(
    "TownCentre", r"(?P<pid>\d+)_(?P<frame>\d+)\.jpg", "'<id>_<frame>.jpg', e.g. '12_340.jpg'"
)
SARC3D_RULE = NameRule(
    "SARC3D",
    r"(?P<pid>\d+)_(?P<view>front|back|left|right)\.png",
    "'<id>_<view>.png' with view front, back, left or right, e.g. '001_front.png'",
)
SARC3D_VIEWS = ("front", "back", "left", "right")
SARC3D_PID_OFFSET = 100_000
PETA_TRAINING_LAYOUT = """<root>/            (PETA's re-identification copy, e.g. peta-reid/)
  TownCentre/<id>_<frame>.jpg
  SARC3D/<id>_<view>.png"""


def load_peta_training(root: str | Path) -> ReIDDataset:
    """TownCentre and SARC3D as one training set (no query, no gallery).

    Raises:
        DatasetLayoutError: ``root`` or one of its two folders is missing (shows the layout).
        BadNameError: a file name breaks its subset's rule.
    """
    base = resolve_root(root, ("TownCentre", "SARC3D"), PETA_TRAINING_LAYOUT)
    records = []
    for path in list_images(base / "TownCentre"):
        g = TOWNCENTRE_RULE.parse(path)
        records.append(Record(path, int(g["pid"]), 0, {"source": "TownCentre"}))
    for path in list_images(base / "SARC3D"):
        g = SARC3D_RULE.parse(path.with_name(path.name.lower()))
        view = SARC3D_VIEWS.index(g["view"])
        pid = SARC3D_PID_OFFSET + int(g["pid"])
        records.append(Record(path, pid, 1 + view, {"source": "SARC3D", "view": g["view"]}))
    return ReIDDataset(
        "peta_training",
        base,
        records,
        (),
        (),
        protocol="training only: TownCentre and SARC3D identities; never evaluated",
        allow_empty=("query", "gallery"),
    )
