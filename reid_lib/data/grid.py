"""QMUL GRID (Loy et al.), in PETA's flat copy ``<id>_<cam>_<frame>_<x>_<y>_<w>_<h>.jpeg``.

250 ids have one image in each of two cameras; 775 more ids have a single gallery-only image
(distractors). Protocol (the literature's): 10 random splits of the paired ids, half train, half
test; probe = one camera's image of each test id, gallery = the other camera's image plus all
distractors. PETA's copy drops GRID's ``probe/`` and ``gallery/`` folders, so we choose the probe
to be the image with the lower camera number of each pair (in every pair the two cameras differ).
camid = camera number - 1; ``frame`` and the box (``x``, ``y``, ``w``, ``h``) go into ``extra``.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from reid_lib.data.layout import list_images, resolve_root
from reid_lib.data.naming import NameRule
from reid_lib.data.protocol_splits import load_or_make_splits, select_split
from reid_lib.data.records import Record, ReIDDataset

GRID_RULE = NameRule(
    "GRID",
    r"(?P<pid>\d+)_(?P<cam>[1-9]\d*)_(?P<frame>\d+)"
    r"_(?P<x>\d+)_(?P<y>\d+)_(?P<w>\d+)_(?P<h>\d+)\.jpeg",
    "'<id>_<cam>_<frame>_<x>_<y>_<w>_<h>.jpeg' (cam from 1), "
    "e.g. '0001_1_25004_107_32_106_221.jpeg'",
)
GRID_LAYOUT = "<root>/  <id>_<cam>_<frame>_<x>_<y>_<w>_<h>.jpeg   one flat folder"


def read_grid_records(root: str | Path) -> tuple[Path, dict[int, list[Record]]]:
    """The dataset folder and the GRID records of each id, sorted by camera.

    Raises:
        ValueError: an id has more than two images, or two in the same camera.
    """
    base = resolve_root(root, (), GRID_LAYOUT, known_subfolders=("GRID",))
    by_id: dict[int, list[Record]] = defaultdict(list)
    for path in list_images(base):
        g = GRID_RULE.parse(path)
        extra = {key: int(g[key]) for key in ("frame", "x", "y", "w", "h")}
        by_id[int(g["pid"])].append(Record(path, int(g["pid"]), int(g["cam"]) - 1, extra))
    for pid, records in by_id.items():
        records.sort(key=lambda r: r.camid)
        if len(records) > 2 or len({r.camid for r in records}) != len(records):
            raise ValueError(
                f"{base}: GRID id {pid} has images {[r.path.name for r in records]}; expected one "
                f"image (distractor) or two from different cameras (pair)"
            )
    return base, dict(by_id)


def load_grid(
    root: str | Path,
    *,
    split_index: int = 0,
    num_splits: int = 10,
    seed: int = 0,
    splits_dir: str | Path | None = None,
) -> ReIDDataset:
    """GRID, split ``split_index`` of the seeded random splits of the paired ids."""
    base, by_id = read_grid_records(root)
    paired = {pid for pid, records in by_id.items() if len(records) == 2}
    splits, path = load_or_make_splits(
        base,
        "grid",
        paired,
        len(paired) // 2,
        num_splits=num_splits,
        seed=seed,
        splits_dir=splits_dir,
    )
    split = select_split(splits, split_index, path)
    test = sorted(split.test)
    return ReIDDataset(
        "grid",
        base,
        train=[r for pid in split.train for r in by_id[pid]],
        query=[by_id[pid][0] for pid in test],
        gallery=[by_id[pid][1] for pid in test]
        + [records[0] for pid, records in sorted(by_id.items()) if pid not in paired],
        protocol=f"split {split_index} of {len(splits)} ({path}); probe = lower camera of each "
        f"pair, gallery = the other plus {len(by_id) - len(paired)} distractor ids",
    )
