"""QMUL GRID (Loy et al.): 250 ids seen by two of 8 cameras, plus 775 gallery-only distractors.

Two layouts are read, with names ``<id>_<cam>_<frame>_<x>_<y>_<w>_<h>.jpeg``:

- the official archive's ``probe/`` (250 images) and ``gallery/`` (1,025 images; the distractors
  there have id ``0000``);
- PETA's flat copy, where the distractors are renumbered 251-1025.

Protocol (the literature's): 10 random splits of the paired ids, half train, half test; probe =
the probe image of each test id, gallery = its other image plus all distractors. PETA's flat copy
drops the ``probe/`` and ``gallery/`` folders, so there we choose the probe to be the image with
the lower camera number of each pair (the two cameras of a pair always differ). Distractors keep
their own pid (``0`` in the official layout), which no query has.
camid = camera number - 1; ``frame`` and the box (``x``, ``y``, ``w``, ``h``) go into ``extra``.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from reid_lib.data.layout import list_images, locate_dataset
from reid_lib.data.naming import NameRule
from reid_lib.data.protocol_splits import half_split
from reid_lib.data.records import Record, ReIDDataset

GRID_RULE = NameRule(
    "GRID",
    r"(?P<pid>\d+)_(?P<cam>[1-9]\d*)_(?P<frame>\d+)"
    r"_(?P<x>\d+)_(?P<y>\d+)_(?P<w>\d+)_(?P<h>\d+)\.jpeg",
    "'<id>_<cam>_<frame>_<x>_<y>_<w>_<h>.jpeg' (cam from 1), "
    "e.g. '0001_1_25004_107_32_106_221.jpeg'",
)
GRID_LAYOUT = """<root>/  either
  probe/<name>.jpeg  and  gallery/<name>.jpeg     (official, distractors have id 0000)
or
  <name>.jpeg                                      (PETA's flat copy)
with <name> = <id>_<cam>_<frame>_<x>_<y>_<w>_<h>"""


def parse_grid_name(path: Path) -> Record:
    """Record of one GRID image: camid 0-based; frame and box in ``extra``."""
    g = GRID_RULE.parse(path)
    extra = {key: int(g[key]) for key in ("frame", "x", "y", "w", "h")}
    return Record(Path(path), int(g["pid"]), int(g["cam"]) - 1, extra)


def read_grid_records(
    root: str | Path,
) -> tuple[Path, dict[int, tuple[Record, Record]], list[Record]]:
    """The dataset folder, the (probe, gallery) records of each paired id, and the distractors.

    Raises:
        ValueError: an id has more than two images, or two in the same camera (flat), or a probe
            id has no gallery image (official).
    """
    base, folders = locate_dataset(
        root,
        GRID_LAYOUT,
        folder_layouts=[("probe", "gallery")],
        known_subfolders=("underground_reid", "GRID"),
    )
    pairs: dict[int, tuple[Record, Record]] = {}
    distractors: list[Record] = []
    if folders:
        probes = {r.pid: r for r in map(parse_grid_name, list_images(base / "probe"))}
        for record in map(parse_grid_name, list_images(base / "gallery")):
            if record.pid in probes:
                pairs[record.pid] = (probes.pop(record.pid), record)
            else:
                distractors.append(record)
        if probes:
            raise ValueError(
                f"{base}: GRID probe ids {sorted(probes)[:10]} have no image in gallery/"
            )
        return base, pairs, distractors
    by_id: dict[int, list[Record]] = defaultdict(list)
    for record in map(parse_grid_name, list_images(base)):
        by_id[record.pid].append(record)
    for pid, records in sorted(by_id.items()):
        records.sort(key=lambda r: r.camid)
        if len(records) > 2 or len({r.camid for r in records}) != len(records):
            raise ValueError(
                f"{base}: GRID id {pid} has images {[r.path.name for r in records]}; expected one "
                f"image (distractor) or two from different cameras (pair)"
            )
        if len(records) == 2:
            pairs[pid] = (records[0], records[1])
        else:
            distractors.append(records[0])
    return base, pairs, distractors


def load_grid(
    root: str | Path,
    *,
    split_index: int = 0,
    **split_options: Any,
) -> ReIDDataset:
    """GRID, split ``split_index`` of the seeded random splits of the paired ids.

    ``split_options`` (``num_splits``, ``seed``, ``splits_dir``) go to
    :func:`~reid_lib.data.protocol_splits.half_split`.
    """
    base, pairs, distractors = read_grid_records(root)
    split, where = half_split(base, "grid", pairs, split_index, **split_options)
    return ReIDDataset(
        "grid",
        base,
        train=[r for pid in split.train for r in pairs[pid]],
        query=[pairs[pid][0] for pid in split.test],
        gallery=[pairs[pid][1] for pid in split.test] + distractors,
        protocol=f"{where}; probe = "
        + ("probe/ image" if (base / "probe").is_dir() else "lower camera of each pair")
        + f", gallery = the other plus {len(distractors)} distractor images",
    )
