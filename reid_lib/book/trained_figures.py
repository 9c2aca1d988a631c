"""The trained models every build shows: the committed figure-data files of the CPU track.

A chapter's own runs train under its profile; under ``smoke`` (CI) that is seconds, so its
figures show that the pipeline runs, not what training learns. The CPU track's sweep commits, for
chosen runs, a figure-data file (``reid_lib.engine.figure_data``) under ``results/cpu/figures``.
:func:`show_trained_figures` draws each of them that holds what a figure needs, titled with the
run, so every build shows trained models without training them. A chapter's figures of one run
draw the baseline and the full model (:data:`SINGLE_RUN_ROWS`), one file per dataset and row;
:func:`show_trained_comparisons` draws several rows side by side, on the same query images.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from reid_lib.book.chapter import Chapter
from reid_lib.book.data import run_images_dir
from reid_lib.book.paths import COMMITTED
from reid_lib.engine.figure_data import FigureData, figure_data_files, read_figure_data

#: The profile whose committed figure data the chapters draw.
TRAINED_PROFILE = "cpu"


def write_command(rows: Sequence[str] = ("full",)) -> str:
    """The command that writes figure data of ``rows``: the line a chapter prints without any."""
    return f"python -m tools.sweep figures --profile {TRAINED_PROFILE} --rows {' '.join(rows)} ..."


#: What writes the full model's, for the line a chapter prints when there are none.
WRITE_COMMAND = write_command()

#: The rows whose figure-data files the figures of one run draw.
SINGLE_RUN_ROWS = ("baseline", "full")

#: Draws one figure-data file: ``(data, images folder or None, (height, width))``.
Draw = Callable[[FigureData, Path | None, tuple[int, int]], Figure]
#: Draws files of several rows on the same queries: ``(row -> data, images folder, size)``.
DrawMany = Callable[[Mapping[str, FigureData], Path | None, tuple[int, int]], Figure]


def _holding(needs: str, results_dir: Path) -> list[FigureData]:
    """The committed files of :data:`TRAINED_PROFILE` that hold an array named ``needs`` or
    starting with ``needs.``: the synthetic set's first (every build has its images), then the
    others, each group sorted by path."""
    found = [read_figure_data(p) for p in figure_data_files(results_dir, TRAINED_PROFILE)]
    held = [
        data
        for data in found
        if any(key == needs or key.startswith(f"{needs}.") for key in data.arrays)
    ]
    return sorted(held, key=lambda data: data.meta["run"]["dataset"] != "synthetic")


def trained_figure_data(
    needs: str, results_dir: Path = COMMITTED, rows: Sequence[str] | None = SINGLE_RUN_ROWS
) -> list[FigureData]:
    """The committed figure-data files that hold an array named ``needs`` or starting with
    ``needs.`` (e.g. ``"tsa"``, ``"activation"``), of the study rows in ``rows`` (None: every
    row), one per dataset and row (the first by path: its lowest split, then seed); the synthetic
    set's first (every build has its images)."""
    chosen: dict[tuple[str, str], FigureData] = {}
    for data in _holding(needs, results_dir):
        run = data.meta["run"]
        if rows is None or run["row"] in rows:
            chosen.setdefault((run["dataset"], run["row"]), data)
    return list(chosen.values())


def trained_comparisons(
    rows: Sequence[str], needs: str, results_dir: Path = COMMITTED
) -> list[dict[str, FigureData]]:
    """Committed files of every row in ``rows`` that hold ``needs`` and share their dataset,
    split, seed and query images: one ``row -> data`` mapping, in the order of ``rows``, per such
    group (the synthetic set's first). A group that lacks a row is left out."""
    groups: dict[tuple, dict[str, FigureData]] = {}
    for data in _holding(needs, results_dir):
        run = data.meta["run"]
        queries = tuple(query["path"] for query in data.meta["queries"])
        key = (run["dataset"], run["split"], run["seed"], queries)
        groups.setdefault(key, {})[run["row"]] = data
    return [
        {row: group[row] for row in rows}
        for group in groups.values()
        if all(row in group for row in rows)
    ]


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


def show_trained_comparisons(
    ch: Chapter, rows: Sequence[str], needs: str, draw: DrawMany, results_dir: Path = COMMITTED
) -> list[list[str]]:
    """Draw each group of :func:`trained_comparisons` with ``draw``, over the images of its
    dataset when this chapter has them; return the labels of each group's runs. With none, print
    one line that names the command writing them."""
    drawn = []
    for group in trained_comparisons(rows, needs, results_dir):
        first = next(iter(group.values()))
        draw(group, run_images_dir(ch, first), first.image_size)
        plt.show()
        drawn.append([data.label for data in group.values()])
    if not drawn:
        print(
            f"no committed figure data of {', '.join(rows)} on the same queries yet:"
            f" {write_command(rows)}"
        )
    return drawn
