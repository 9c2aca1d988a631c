"""PRID 2011 single-shot (Hirzer et al., SCIA 2011).

Two layouts are read:

- the official archive's ``single_shot/cam_a/person_0001.png`` and ``single_shot/cam_b/...``;
- PETA's flat copy, ``<id>_<cam>.png`` with cam ``a`` or ``b``.

Camera a holds ids 1-385 and camera b ids 1-749; the ids seen by both (1-200) are the matchable
ones. Protocol (the literature's): 10 random splits of the shared ids, half train (both cameras'
images), half test; probe (query) = camera a images of the test ids; gallery = camera b images of
the test ids plus every camera-b-only id (distractors). Camera-a-only ids are not used.
camid 0 = a, 1 = b.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reid_lib.data.layout import list_images, locate_dataset
from reid_lib.data.naming import NameRule
from reid_lib.data.protocol_splits import half_split
from reid_lib.data.records import Record, ReIDDataset

PRID2011_RULE = NameRule(
    "PRID 2011 (flat)",
    r"(?P<pid>\d+)_(?P<cam>[ab])\.png",
    "'<id>_<cam>.png' (cam a or b), e.g. '0001_a.png'",
)
PRID2011_CAM_RULE = NameRule(
    "PRID 2011 (cam_a/, cam_b/)",
    r"person_(?P<pid>\d+)\.png",
    "'person_<id>.png' inside cam_a/ or cam_b/, e.g. 'person_0001.png'",
)
PRID2011_LAYOUT = """<root>/  either
  single_shot/cam_a/person_<id>.png  and  single_shot/cam_b/person_<id>.png   (official)
or
  <id>_<cam>.png                                           (PETA's flat copy, cam a or b)"""


def read_prid2011_records(root: str | Path) -> tuple[Path, list[Record]]:
    """The dataset folder and every PRID 2011 single-shot image as a record (camid 0 = a)."""
    base, folders = locate_dataset(
        root,
        PRID2011_LAYOUT,
        folder_layouts=[("cam_a", "cam_b")],
        known_subfolders=("single_shot", "prid_2011/single_shot", "PRID"),
    )
    records = []
    if folders:
        for camid, folder in enumerate(folders):
            for path in list_images(base / folder):
                records.append(Record(path, int(PRID2011_CAM_RULE.parse(path)["pid"]), camid))
    else:
        for path in list_images(base):
            g = PRID2011_RULE.parse(path)
            records.append(Record(path, int(g["pid"]), "ab".index(g["cam"])))
    return base, records


def load_prid2011(
    root: str | Path,
    *,
    split_index: int = 0,
    **split_options: Any,
) -> ReIDDataset:
    """PRID 2011, split ``split_index`` of the seeded random splits of the shared ids.

    ``split_options`` (``num_splits``, ``seed``, ``splits_dir``) go to
    :func:`~reid_lib.data.protocol_splits.half_split`.
    """
    base, records = read_prid2011_records(root)
    cam_a = {r.pid for r in records if r.camid == 0}
    cam_b = {r.pid for r in records if r.camid == 1}
    shared = cam_a & cam_b
    split, where = half_split(base, "prid2011", shared, split_index, **split_options)
    train, test = set(split.train), set(split.test)
    return ReIDDataset(
        "prid2011",
        base,
        train=[r for r in records if r.pid in train],
        query=[r for r in records if r.pid in test and r.camid == 0],
        gallery=[r for r in records if r.camid == 1 and (r.pid in test or r.pid not in cam_a)],
        protocol=f"{where}; probe = cam a, "
        f"gallery = cam b with {len(cam_b - cam_a)} cam-b-only distractor ids",
    )
