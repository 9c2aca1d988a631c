"""VIPeR (Gray et al., PETS 2007): 632 ids, one image in each of two cameras.

Two layouts are read:

- the official one, ``cam_a/<id>_<angle>.bmp`` and ``cam_b/<id>_<angle>.bmp``;
- PETA's flat copy, ``<id>_<angle>_<cam>.bmp`` with cam 1 = cam_a, 2 = cam_b.

Protocol (the literature's): 10 random splits of the ids, half train, half test; probe (query) =
cam_a image, gallery = cam_b image of each test id. camid 0 = cam_a, 1 = cam_b; ``angle`` (the
viewpoint in degrees) goes into ``extra``.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from reid_lib.data.layout import list_images, locate_dataset
from reid_lib.data.naming import NameRule
from reid_lib.data.protocol_splits import camera_pair_dataset, half_split
from reid_lib.data.records import Record, ReIDDataset

VIPER_FLAT_RULE = NameRule(
    "VIPeR (flat)",
    r"(?P<pid>\d+)_(?P<angle>\d+)_(?P<cam>[12])\.bmp",
    "'<id>_<angle>_<cam>.bmp' (cam 1 = cam_a, 2 = cam_b), e.g. '000_45_1.bmp'",
)
VIPER_CAM_RULE = NameRule(
    "VIPeR (cam_a/, cam_b/)",
    r"(?P<pid>\d+)_(?P<angle>\d+)\.bmp",
    "'<id>_<angle>.bmp' inside cam_a/ or cam_b/, e.g. '000_45.bmp'",
)
VIPER_LAYOUT = """<root>/  either
  cam_a/<id>_<angle>.bmp  and  cam_b/<id>_<angle>.bmp      (official)
or
  <id>_<angle>_<cam>.bmp                                   (PETA's flat copy, cam 1 or 2)"""


def read_viper_records(root: str | Path) -> tuple[Path, list[Record]]:
    """The dataset folder and every VIPeR image as a record, from either layout.

    Raises:
        DatasetLayoutError: ``root`` is missing. BadNameError: a name breaks its rule.
        ValueError: an id lacks its image in one camera or has two there.
    """
    base, folders = locate_dataset(
        root, VIPER_LAYOUT, folder_layouts=[("cam_a", "cam_b")], known_subfolders=("VIPeR",)
    )
    if folders:
        records = []
        for camid, folder in enumerate(("cam_a", "cam_b")):
            for path in list_images(base / folder):
                g = VIPER_CAM_RULE.parse(path)
                records.append(Record(path, int(g["pid"]), camid, {"angle": int(g["angle"])}))
    else:
        records = []
        for path in list_images(base):
            g = VIPER_FLAT_RULE.parse(path)
            records.append(
                Record(path, int(g["pid"]), int(g["cam"]) - 1, {"angle": int(g["angle"])})
            )
    counts = Counter((r.pid, r.camid) for r in records)
    for pid in sorted({r.pid for r in records}):
        if counts[pid, 0] != 1 or counts[pid, 1] != 1:
            raise ValueError(
                f"{base}: VIPeR id {pid} has {counts[pid, 0]} cam_a and {counts[pid, 1]} cam_b "
                f"images; expected exactly one in each camera"
            )
    return base, records


def load_viper(
    root: str | Path,
    *,
    split_index: int = 0,
    **split_options: Any,
) -> ReIDDataset:
    """VIPeR, split ``split_index`` of the seeded random half/half id splits (saved as JSON).

    ``split_options`` (``num_splits``, ``seed``, ``splits_dir``) go to
    :func:`~reid_lib.data.protocol_splits.half_split`.
    """
    base, records = read_viper_records(root)
    split, where = half_split(base, "viper", {r.pid for r in records}, split_index, **split_options)
    protocol = f"{where}; probe = cam_a, gallery = cam_b"
    return camera_pair_dataset("viper", base, records, set(split.test), protocol)
