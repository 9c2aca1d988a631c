"""CAVIAR4REID (Cheng et al., BMVC 2011), in PETA's flat copy ``<id>_<index>.jpg``.

72 ids: 50 with 20 images (index 1-10 from one camera, 11-20 from the other) and 22 with 10
images from one camera. camid 0 = index 1-10, 1 = index 11-20; which physical camera the 22
single-camera ids come from is not in the names, so they get camid 0.

Protocols (both from the literature):

- ``"half"`` (default): 10 random 25/25 splits of the 50 two-camera ids;
- ``"all_test"``: all 50 two-camera ids are test ids (one fixed split).

We choose: the 22 single-camera ids are training data in both; probe (query) = camera 0 images,
gallery = camera 1 images of the test ids (all ten of each, a multi-shot gallery).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from reid_lib.data.layout import list_images, locate_dataset
from reid_lib.data.naming import NameRule
from reid_lib.data.protocol_splits import camera_pair_dataset, half_split
from reid_lib.data.records import Record, ReIDDataset

CAVIAR4REID_RULE = NameRule(
    "CAVIAR4REID",
    r"(?P<pid>\d+)_(?P<index>0*(?:[1-9]|1\d|20))\.jpg",
    "'<id>_<index>.jpg' (index 1-10 one camera, 11-20 the other), e.g. '0001_001.jpg'",
)
CAVIAR4REID_LAYOUT = "<root>/  <id>_<index>.jpg   one flat folder"
CAMERA_SIZE = 10


def read_caviar4reid_records(root: str | Path) -> tuple[Path, list[Record]]:
    """The dataset folder and every CAVIAR4REID image as a record (``index`` in ``extra``)."""
    base, _ = locate_dataset(root, CAVIAR4REID_LAYOUT, known_subfolders=("CAVIAR4REID",))
    records = []
    for path in list_images(base):
        g = CAVIAR4REID_RULE.parse(path)
        index = int(g["index"])
        records.append(Record(path, int(g["pid"]), int(index > CAMERA_SIZE), {"index": index}))
    return base, records


def load_caviar4reid(
    root: str | Path,
    *,
    protocol: Literal["half", "all_test"] = "half",
    split_index: int = 0,
    **split_options: Any,
) -> ReIDDataset:
    """CAVIAR4REID under ``protocol`` (split ``split_index`` for ``"half"``).

    ``split_options`` (``num_splits``, ``seed``, ``splits_dir``) go to
    :func:`~reid_lib.data.protocol_splits.half_split`.
    """
    if protocol not in ("half", "all_test"):
        raise ValueError(f"protocol={protocol!r}: expected 'half' or 'all_test'")
    base, records = read_caviar4reid_records(root)
    two_camera = {r.pid for r in records if r.camid == 1}
    if protocol == "half":
        split, where = half_split(base, "caviar4reid", two_camera, split_index, **split_options)
        test = set(split.test)
        description = f"half, {where}"
    else:
        test = two_camera
        description = "all_test"
    protocol = (
        f"{description}; probe = camera 0, gallery = camera 1; "
        f"{len({r.pid for r in records} - two_camera)} single-camera ids train"
    )
    return camera_pair_dataset("caviar4reid", base, records, test, protocol)
