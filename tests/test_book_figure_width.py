"""A figure is shown at its own size: what the page shows of it fits the column."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
from PIL import Image

from reid_lib.book import figures
from reid_lib.book.figures import fit_to_column, study_figure
from reid_lib.book.legibility import BOOK_RC, COLUMN_PX


def shown_width(fig) -> int:
    """The width of the PNG the chapters show (saved as ``reid_lib.book.tabs`` saves it)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(fig)
    with Image.open(buffer) as image:
        return image.width


def test_a_figure_inside_the_column_keeps_its_size():
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [0, 1])
    assert tuple(fit_to_column(fig).get_size_inches()) == (3, 2)
    plt.close(fig)


#: The rows CAVIAR4REID's cpu runs had reached when its study figure came out 674 px wide: panels
#: with one row, whose rotated label tight_layout leaves past the figure's edge.
PART_WAY = {
    "modules": ["baseline", "nl", "msg", "wdp", "full"],
    "tiny spatial attention": ["msg", "full"],
    "part fusion": ["fusion-adaptive"],
    "number of parts": ["parts-4"],
    "comparison models": ["full"],
    "without deep learning": ["colour-histogram", "lomo-xqda", "baseline", "full"],
    "pretraining": ["full"],
}


def part_way_figure():
    points = pd.DataFrame(
        [
            {"study": study, "row": row, "seed": seed, "mAP": 40.0 + seed + len(row)}
            for study, names in PART_WAY.items()
            for row in names
            for seed in range(3)
        ]
    )
    with plt.rc_context(BOOK_RC):
        return study_figure(points)


def test_a_figure_wider_than_the_column_on_the_page_is_narrowed_to_it(monkeypatch):
    assert shown_width(part_way_figure()) <= COLUMN_PX
    monkeypatch.setattr(figures, "fit_to_column", lambda fig: fig)
    assert shown_width(part_way_figure()) > COLUMN_PX, "the overflow it mends"
