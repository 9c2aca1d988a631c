"""Market-1501 (Zheng et al., ICCV 2015): 1,501 ids, 6 cameras, Market-style folders.

Names: ``<pid>_c<cam>s<seq>_<frame>_<box>.jpg``, e.g. ``0002_c1s1_000451_03.jpg``; pid ``0000`` is a
distractor, ``-1`` is junk. The synthetic dataset writes the same layout and names, so it is read by
:func:`load_market1501` too (``name="synthetic"``).
"""

from __future__ import annotations

from pathlib import Path

from reid_lib.data.market_layout import load_market_style
from reid_lib.data.naming import NameRule
from reid_lib.data.records import Record, ReIDDataset

MARKET1501_RULE = NameRule(
    "Market-1501",
    r"(?P<pid>-1|\d+)_c(?P<cam>[1-9]\d*)s(?P<seq>\d+)_(?P<frame>\d+)_(?P<box>\d+)\.(?:jpg|jpeg|png)",
    "'<pid>_c<cam>s<seq>_<frame>_<box>.jpg' (pid 0000 = distractor, -1 = junk; cam from 1), "
    "e.g. '0002_c1s1_000451_03.jpg'",
)


def parse_market1501_name(path: Path) -> Record:
    """Record of one Market-1501 image: camid 0-based; ``seq``, ``frame``, ``box`` in ``extra``."""
    g = MARKET1501_RULE.parse(path)
    extra = {"seq": int(g["seq"]), "frame": int(g["frame"]), "box": int(g["box"])}
    return Record(Path(path), int(g["pid"]), int(g["cam"]) - 1, extra)


def load_market1501(
    root: str | Path, *, name: str = "market1501", multi_query: bool = False, flat: bool = False
) -> ReIDDataset:
    """Load Market-1501 (or any dataset in its layout and naming, e.g. ``name="synthetic"``).

    ``multi_query=True`` adds the ``gt_bbox/`` images of the query ids as ``multi_query`` (Market's
    multi-query pools those of the same id and camera as each query; pooling is the evaluator's
    job). ``flat=True`` reads one folder of crops with our demo protocol (see
    :mod:`reid_lib.data.market_layout`).
    """
    return load_market_style(
        root,
        name=name,
        parse=parse_market1501_name,
        known_subfolders=("Market-1501-v15.09.15", "Market-1501"),
        multi_query=multi_query,
        flat=flat,
    )
