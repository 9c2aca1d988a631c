"""The trained models every build shows: the committed figure-data files of the CPU track.

A chapter's own runs train under its profile; under ``smoke`` (CI) that is seconds, so its
figures show that the pipeline runs, not what training learns. The CPU track's sweep commits, for
chosen runs, a figure-data file (``reid_lib.engine.figure_data``) under ``results/cpu/figures``.
:func:`show_trained_figures` draws each of them that holds what a figure needs, titled with the
run, so every build shows trained models without training them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from reid_lib.book.chapter import Chapter
from reid_lib.book.data import run_images_dir
from reid_lib.book.paths import COMMITTED
from reid_lib.engine.figure_data import FigureData, figure_data_files, read_figure_data

#: The profile whose committed figure data the chapters draw.
TRAINED_PROFILE = "cpu"
#: What writes them, for the line a chapter prints when there are none.
WRITE_COMMAND = f"python -m tools.sweep figures --profile {TRAINED_PROFILE} --rows full ..."

#: Draws one figure-data file: ``(data, images folder or None, (height, width))``.
Draw = Callable[[FigureData, Path | None, tuple[int, int]], Figure]


def trained_figure_data(needs: str, results_dir: Path = COMMITTED) -> list[FigureData]:
    """The committed figure-data files of :data:`TRAINED_PROFILE` that hold an array named
    ``needs`` or starting with ``needs.`` (e.g. ``"tsa"``, ``"activation"``): the synthetic set's
    first (every build has its images), then the others, each group sorted by path."""
    found = [read_figure_data(p) for p in figure_data_files(results_dir, TRAINED_PROFILE)]
    held = [
        data
        for data in found
        if any(key == needs or key.startswith(f"{needs}.") for key in data.arrays)
    ]
    return sorted(held, key=lambda data: data.meta["run"]["dataset"] != "synthetic")


def show_trained_figures(
    ch: Chapter, needs: str, draw: Draw, results_dir: Path = COMMITTED
) -> list[str]:
    """Draw every committed file that holds ``needs`` with ``draw``, over the images of its
    dataset when this chapter has them; return the labels of the runs drawn. With none, print one
    line that names the command writing them."""
    drawn = []
    for data in trained_figure_data(needs, results_dir):
        draw(data, run_images_dir(ch, data), data.image_size)
        plt.show()
        drawn.append(data.label)
    if not drawn:
        print(f"no committed figure data with {needs!r} yet: {WRITE_COMMAND}")
    return drawn
