"""PRID 2011 single-shot (Hirzer et al., SCIA 2011), in PETA's flat copy ``<id>_<cam>.png``.

Camera a holds ids 1-385 and camera b ids 1-749; the ids seen by both (1-200) are the matchable
ones. Protocol (the literature's): 10 random splits of the shared ids, half train (both cameras'
images), half test; probe (query) = camera a images of the test ids; gallery = camera b images of
the test ids plus every camera-b-only id (distractors). Camera-a-only ids are not used.
camid 0 = a, 1 = b.
"""

from __future__ import annotations

from pathlib import Path

from reid_lib.data.layout import list_images, resolve_root
from reid_lib.data.naming import NameRule
from reid_lib.data.protocol_splits import load_or_make_splits, select_split
from reid_lib.data.records import Record, ReIDDataset

PRID2011_RULE = NameRule(
    "PRID 2011",
    r"(?P<pid>\d+)_(?P<cam>[ab])\.png",
    "'<id>_<cam>.png' (cam a or b), e.g. '0001_a.png'",
)
PRID2011_LAYOUT = "<root>/  <id>_<cam>.png   one flat folder, cam a or b"


def read_prid2011_records(root: str | Path) -> tuple[Path, list[Record]]:
    """The dataset folder and every PRID 2011 image as a record (camid 0 = a, 1 = b)."""
    base = resolve_root(root, (), PRID2011_LAYOUT, known_subfolders=("PRID",))
    records = []
    for path in list_images(base):
        g = PRID2011_RULE.parse(path)
        records.append(Record(path, int(g["pid"]), "ab".index(g["cam"])))
    return base, records


def load_prid2011(
    root: str | Path,
    *,
    split_index: int = 0,
    num_splits: int = 10,
    seed: int = 0,
    splits_dir: str | Path | None = None,
) -> ReIDDataset:
    """PRID 2011, split ``split_index`` of the seeded random splits of the shared ids."""
    base, records = read_prid2011_records(root)
    cam_a = {r.pid for r in records if r.camid == 0}
    cam_b = {r.pid for r in records if r.camid == 1}
    shared = cam_a & cam_b
    splits, path = load_or_make_splits(
        base,
        "prid2011",
        shared,
        len(shared) // 2,
        num_splits=num_splits,
        seed=seed,
        splits_dir=splits_dir,
    )
    split = select_split(splits, split_index, path)
    train, test = set(split.train), set(split.test)
    return ReIDDataset(
        "prid2011",
        base,
        train=[r for r in records if r.pid in train],
        query=[r for r in records if r.pid in test and r.camid == 0],
        gallery=[r for r in records if r.camid == 1 and (r.pid in test or r.pid not in cam_a)],
        protocol=f"split {split_index} of {len(splits)} ({path}); probe = cam a, "
        f"gallery = cam b with {len(cam_b - cam_a)} cam-b-only distractor ids",
    )
