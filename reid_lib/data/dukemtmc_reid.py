"""DukeMTMC-reID (Zheng et al., ICCV 2017; withdrawn by its authors in 2019): Market-style folders.

Names: ``<pid>_c<cam>_f<frame>.jpg``, e.g. ``0005_c2_f0046985.jpg``. It has no junk images; its
gallery distractors carry ordinary pids that no query has.
"""

from __future__ import annotations

from pathlib import Path

from reid_lib.data.market_layout import load_market_style
from reid_lib.data.naming import NameRule
from reid_lib.data.records import Record, ReIDDataset

DUKEMTMC_RULE = NameRule(
    "DukeMTMC-reID",
    r"(?P<pid>\d+)_c(?P<cam>[1-9]\d*)_f(?P<frame>\d+)\.jpg",
    "'<pid>_c<cam>_f<frame>.jpg' (cam from 1), e.g. '0005_c2_f0046985.jpg'",
)


def parse_dukemtmc_name(path: Path) -> Record:
    """Record of one DukeMTMC-reID image: camid 0-based; ``frame`` in ``extra``."""
    g = DUKEMTMC_RULE.parse(path)
    return Record(Path(path), int(g["pid"]), int(g["cam"]) - 1, {"frame": int(g["frame"])})


def load_dukemtmc_reid(root: str | Path, *, flat: bool = False) -> ReIDDataset:
    """Load DukeMTMC-reID from its Market-style folders (``flat=True``: one folder of crops)."""
    return load_market_style(
        root,
        name="dukemtmc_reid",
        parse=parse_dukemtmc_name,
        known_subfolders=("DukeMTMC-reID",),
        flat=flat,
    )
