"""The book's figures: image grids, heat-map overlays (the paper's Fig. 8), ranked lists (Fig. 9),
and the per-seed plots of the ablation studies.

Plotting only; what is drawn is computed by ``reid_lib`` in the chapters. Every figure fits the
page's column (:func:`column_inches`) at the book's type size, so that the page never shrinks its
text below the small print (``reid_lib.book.legibility``); a figure of many pictures makes each
picture smaller instead, and legends sit outside the data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from PIL import Image

from reid_lib.book.legibility import COLUMN_PX
from reid_lib.data.loaders import read_image
from reid_lib.engine.figure_data import FigureData

MATCH_COLOUR, MISS_COLOUR = "#1a9e3a", "#d62728"


def column_inches() -> float:
    """The width of the page's column, in inches of matplotlib's figure dpi: a figure this wide
    or narrower is shown at its own size."""
    return COLUMN_PX / plt.rcParams["figure.dpi"]


def fit_to_column(fig: Figure) -> Figure:
    """Narrow ``fig`` until what the page shows of it (``savefig(bbox_inches="tight")``: the box
    around everything drawn, rotated tick labels included, plus ``savefig.pad_inches`` on each
    side) is no wider than the column, so that it is shown at its own size; return it."""
    pad = plt.rcParams["savefig.pad_inches"]
    for _ in range(3):  # tight_layout moves the labels a little each time
        shown = fig.get_tightbbox(fig.canvas.get_renderer()).width + 2 * pad
        excess = shown - column_inches()
        if excess <= 0:
            break
        width, height = fig.get_size_inches()
        fig.set_size_inches(width - excess, height)
        fig.tight_layout()
    return fig


def _panel_inches(preferred: float, panels: int) -> float:
    """The width of each of ``panels`` side by side: ``preferred``, or less to fit the column."""
    return min(preferred, column_inches() / panels)


def load_image(path: str | Path, size: tuple[int, int] | None = None) -> np.ndarray:
    """RGB uint8 ``[H, W, 3]`` of ``path``, resized to ``size`` = (height, width) when given."""
    image = read_image(path)
    if size is not None:
        image = image.resize((size[1], size[0]), Image.BILINEAR)
    return np.asarray(image)


def image_grid(
    rows: Sequence[Sequence[np.ndarray]],
    *,
    row_labels: Sequence[str] = (),
    col_labels: Sequence[str] = (),
    cell_inches: float = 0.9,
) -> Figure:
    """A grid of images, ``rows[r][c]`` an ``[H, W, 3]`` array, with optional labels."""
    nrows, ncols = len(rows), max(len(r) for r in rows)
    cell = _panel_inches(cell_inches, ncols + 0.5)  # half a cell for the row labels
    fig, axes = plt.subplots(nrows, ncols, figsize=(cell * ncols, 2 * cell * nrows), squeeze=False)
    for r, ax_row in enumerate(axes):
        for c, ax in enumerate(ax_row):
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_frame_on(False)
            if c < len(rows[r]):
                ax.imshow(rows[r][c])
            if c == 0 and r < len(row_labels):
                ax.set_ylabel(row_labels[r])
            if r == 0 and c < len(col_labels):
                ax.set_title(col_labels[c])
    fig.tight_layout()
    return fig


def overlay(ax: plt.Axes, image: np.ndarray, heat: np.ndarray, *, alpha: float = 0.5) -> None:
    """Draw ``image`` with ``heat`` (any ``[h, w]``, stretched to the image) over it."""
    height, width = image.shape[:2]
    ax.imshow(image)
    ax.imshow(heat, cmap="jet", alpha=alpha, extent=(0, width, height, 0), interpolation="bilinear")
    ax.set_xticks([])
    ax.set_yticks([])


def activation_grid(
    images: Sequence[np.ndarray],
    maps: Mapping[str, Mapping[str, np.ndarray]],
    *,
    image_labels: Sequence[str] = (),
    cell_inches: float = 0.8,
) -> Figure:
    """The layout of the paper's Fig. 8: for each image, one row per model of its stage maps.

    ``maps[model][stage]`` is ``[N, h, w]`` for the ``N`` ``images``; each image gets a block, one
    under the other, whose first column is the image and whose rows are the models' maps drawn
    over it (:func:`overlay`).
    """
    models = list(maps)
    stages = list(maps[models[0]])
    cell = _panel_inches(cell_inches, len(stages) + 1.5)  # half a cell for the model names
    fig = plt.figure(
        figsize=((len(stages) + 1.5) * cell, len(images) * (2 * cell * len(models) + 0.5)),
        layout="constrained",
    )
    blocks = np.atleast_1d(fig.subfigures(len(images), 1))
    for i, (block, image) in enumerate(zip(blocks, images, strict=True)):
        grid = block.add_gridspec(len(models), len(stages) + 1)
        ax = block.add_subplot(grid[:, 0])
        ax.imshow(image)
        ax.set_axis_off()
        if i < len(image_labels):
            ax.set_title(image_labels[i])
        for r, model in enumerate(models):
            for c, stage in enumerate(stages, start=1):
                ax = block.add_subplot(grid[r, c])
                overlay(ax, image, maps[model][stage][i])
                if r == 0:
                    ax.set_title(stage)
                if c == 1:
                    ax.set_ylabel(model)
    return fig


def _mark_match(ax: plt.Axes, size: tuple[int, int], match: bool) -> None:
    """A green (same person) or red (other) border round an image of ``size`` (height, width)."""
    height, width = size
    colour = MATCH_COLOUR if match else MISS_COLOUR
    ax.add_patch(Rectangle((0, 0), width - 1, height - 1, fill=False, lw=4, edgecolor=colour))


def _ranked_row(
    axes: Sequence[plt.Axes],
    query: np.ndarray,
    gallery: Sequence[np.ndarray],
    matches: Sequence[bool],
    distances: Sequence[float] | None,
) -> None:
    """Draw the query, then its ranked gallery with green or red borders, on one row of axes."""
    panels = [
        (query, "query", None),
        *[(img, f"{i + 1}", m) for i, (img, m) in enumerate(zip(gallery, matches, strict=True))],
    ]
    for j, (ax, (img, label, match)) in enumerate(zip(axes, panels, strict=True)):
        ax.imshow(img)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_frame_on(False)
        if match is not None:
            _mark_match(ax, img.shape[:2], match)
            if distances is not None:
                label = f"{label}\n{distances[j - 1]:.2f}"
        ax.set_title(label)


def _ranked_figsize(
    panels: float, lines: int, picture: tuple[int, ...], titles: int
) -> tuple[float, float]:
    """(width, height) of ``lines`` rows of ``panels`` pictures of shape ``picture`` (height,
    width, ...) that fit the column, with ``titles`` lines of text over each row."""
    width = _panel_inches(0.95, panels)
    line_inches = 1.4 * plt.rcParams["font.size"] / 72
    return width * panels, lines * (width * picture[0] / picture[1] + titles * line_inches)


def ranked_list_figure(
    query: np.ndarray,
    gallery: Sequence[np.ndarray],
    matches: Sequence[bool],
    *,
    distances: Sequence[float] | None = None,
    title: str | None = None,
) -> Figure:
    """The query, then its ranked gallery with green (same person) or red (other) borders."""
    size = _ranked_figsize(len(gallery) + 1, 1, query.shape, 2 + bool(title))
    fig, axes = plt.subplots(1, len(gallery) + 1, figsize=size)
    _ranked_row(axes, query, gallery, matches, distances)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def models_ranked_lists_figure(
    query: np.ndarray,
    lists: Mapping[str, tuple[Sequence[np.ndarray], Sequence[bool]]],
) -> Figure:
    """The layout of the paper's Fig. 9: one query's ranked gallery under each model, a row per
    model named on its left (``lists[model] = (gallery images, matches)``)."""
    n = max(len(gallery) for gallery, _ in lists.values())
    size = _ranked_figsize(n + 1.5, len(lists), query.shape, 1)  # half a panel for the names
    fig, axes = plt.subplots(len(lists), n + 1, figsize=size, squeeze=False)
    for row, (model, (gallery, matches)) in zip(axes, lists.items(), strict=True):
        _ranked_row(row[: len(gallery) + 1], query, gallery, matches, None)
        row[0].set_ylabel(model)
    fig.tight_layout()
    return fig


def study_figure(points: pd.DataFrame, metric: str = "mAP", *, width: float = 3.2) -> Figure:
    """One panel per ablation study: each seed as a dot, the mean and standard deviation as a bar.

    ``points`` is ``reid_lib.reports.ablation_points`` (columns study, row, seed and metric).
    """
    studies = list(dict.fromkeys(points["study"]))
    columns = min(3, len(studies)) or 1
    lines = -(-len(studies) // columns)
    width = _panel_inches(width, columns)
    fig, axes = plt.subplots(
        lines, columns, figsize=(width * columns, 3.2 * lines), squeeze=False, sharey=True
    )
    for ax, study in zip(axes.flat, studies, strict=False):
        mine = points[points["study"] == study]
        order = list(dict.fromkeys(mine["row"]))
        sns.pointplot(
            data=mine,
            x="row",
            y=metric,
            order=order,
            errorbar="sd",
            color="black",
            ax=ax,
            linestyle="none",
            capsize=0.2,
            markers="_",
        )
        sns.stripplot(data=mine, x="row", y=metric, order=order, hue="seed", ax=ax, legend=False)
        ax.set_title(study)
        ax.set_xlabel("")
        ax.tick_params(axis="x", rotation=45)
    for ax in list(axes.flat)[len(studies) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return fit_to_column(fig)


def _picture(images_dir: Path, relative: str, size: tuple[int, int]) -> np.ndarray:
    """The image at ``images_dir / relative``, at ``size``."""
    return load_image(images_dir / relative, size)


def _stage_maps(data: FigureData) -> dict[str, np.ndarray]:
    """``stage -> [queries, h, w]`` float32 activation maps of a figure-data file, by stage."""
    prefix = "activation."
    return {
        key.removeprefix(prefix): data.arrays[key].astype(np.float32)
        for key in sorted(data.arrays)
        if key.startswith(prefix)
    }


def _ranked_list(
    data: FigureData, query: int, images_dir: Path, size: tuple[int, int]
) -> tuple[list[np.ndarray], list[bool]]:
    """The top-ranked gallery pictures of a file's ``query``-th query (:func:`_picture`) and
    whether each shows the same person."""
    order, matches = data.arrays["ranked.gallery_index"][query], data.arrays["ranked.match"][query]
    pictures = [_picture(images_dir, data.meta["gallery"][str(int(i))], size) for i in order]
    return pictures, [bool(match) for match in matches]


def trained_run_figure(
    data: FigureData, images_dir: Path, size: tuple[int, int], *, with_maps: bool = True
) -> Figure:
    """What a figure-data file holds, for each of its query images (read from ``images_dir``,
    the dataset's folder): a line with the image and its stage1-3 activation maps and (when the
    model has one) its TSA map drawn over it; then a line with its top-ranked gallery images with
    green (same person) or red (other) borders. ``with_maps=False`` leaves the maps' lines out.
    The title names the run.
    """
    maps = _stage_maps(data) if with_maps else {}
    if with_maps and "tsa" in data.arrays:
        maps["tsa"] = data.arrays["tsa"].astype(np.float32)
    queries = data.meta["queries"]
    top = data.arrays["ranked.gallery_index"].shape[1]
    columns = max(top, 1 + len(maps))
    kinds = ("maps", "ranked") if maps else ("ranked",)
    lines = [(q, kind) for q in range(len(queries)) for kind in kinds]
    size_inches = _ranked_figsize(columns + 0.5, len(lines), size, 1)  # half a panel for names
    fig, axes = plt.subplots(len(lines), columns, figsize=size_inches, squeeze=False)
    for row, (q, kind) in zip(axes, lines, strict=True):
        for ax in row:
            ax.set_axis_off()
        query = queries[q]
        image = _picture(images_dir, query["path"], size)
        if kind == "maps":
            row[0].imshow(image)
            row[0].set_title("image")
            for ax, (name, heat) in zip(row[1:], maps.items(), strict=False):
                overlay(ax, image, heat[q])
                ax.set_title(name)
            for ax in row[: 1 + len(maps)]:
                ax.set_axis_on()
        else:
            ranked = zip(row, *_ranked_list(data, q, images_dir, size), strict=False)
            for j, (ax, picture, match) in enumerate(ranked, start=1):
                ax.set_axis_on()
                ax.imshow(picture)
                _mark_match(ax, size, match)
                ax.set_title(f"#{j}")
        for ax in row:
            ax.set_xticks([])
            ax.set_yticks([])
        row[0].set_ylabel(f"query {query['index']}")
    fig.suptitle(data.label)
    fig.tight_layout()
    return fig


def _runs_title(runs: Mapping[str, FigureData]) -> str:
    return "\n".join(data.label for data in runs.values())


def trained_maps_comparison(
    runs: Mapping[str, FigureData], images_dir: Path, size: tuple[int, int]
) -> Figure:
    """The paper's Fig. 8 from trained runs: for each query image the files share, its stage1-3
    activation maps under each run (``runs[row]``, a row of maps per run), drawn over the image
    (read from ``images_dir``). The title names the runs."""
    first = next(iter(runs.values()))
    queries = first.meta["queries"]
    fig = activation_grid(
        [_picture(images_dir, query["path"], size) for query in queries],
        {row: _stage_maps(data) for row, data in runs.items()},
        image_labels=[f"query {query['index']}" for query in queries],
    )
    fig.suptitle(_runs_title(runs))
    return fig


def trained_ranked_comparison(
    runs: Mapping[str, FigureData],
    images_dir: Path,
    size: tuple[int, int],
    *,
    query: int = 0,
) -> Figure:
    """The paper's Fig. 9 from trained runs: the ``query``-th query image the files share, then
    its top-ranked gallery under each run (``runs[row]``, a row per run), read from
    ``images_dir``. The title names the runs."""
    first = next(iter(runs.values()))
    lists = {row: _ranked_list(data, query, images_dir, size) for row, data in runs.items()}
    picture = _picture(images_dir, first.meta["queries"][query]["path"], size)
    fig = models_ranked_lists_figure(picture, lists)
    fig.suptitle(_runs_title(runs))
    fig.tight_layout()
    return fig


def loss_curve_figure(data: FigureData) -> Figure:
    """The loss terms a figure-data file logged, per training step, titled with the run."""
    steps = data.arrays["loss.step"]
    fig, ax = plt.subplots(figsize=(column_inches(), 3.6))
    for key in sorted(k for k in data.arrays if k.startswith("loss.") and k != "loss.step"):
        ax.plot(steps, data.arrays[key], label=key.removeprefix("loss."), lw=1.2)
    ax.set_xlabel("step")
    ax.set_ylabel("loss (log scale)")
    ax.set_yscale("log")  # the total is several times each term; a log axis shows both
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=4, frameon=False)
    ax.set_title(data.label)
    fig.tight_layout()
    return fig


def mark_position(
    ax: plt.Axes,
    position: Sequence[int],
    map_shape: Sequence[int],
    picture_size: Sequence[int],
) -> None:
    """A white star on ``ax`` at cell ``position`` ``(row, col)`` of a ``map_shape`` ``(h, w)``
    map drawn over a picture of ``picture_size`` ``(height, width)`` pixels (as :func:`overlay`
    draws it): the centre of the cell, in the picture's pixels."""
    (row, col), (h, w), (height, width) = position, map_shape, picture_size
    ax.plot((col + 0.5) * width / w, (row + 0.5) * height / h, "w*", ms=10)


def query_maps_figure(
    data: FigureData, key: str, images_dir: Path, size: tuple[int, int], *, title: str
) -> Figure:
    """The ``[N, h, w]`` array ``key`` of a figure-data file, one panel per query image, drawn over
    the image (read from ``images_dir``), each panel's range under it. For a non-local
    affinity (``nonlocal.<stage>``) a white star marks the position whose affinity it is. The title
    is ``title`` and the run's label."""
    maps = data.arrays[key].astype(np.float32)
    queries = data.meta["queries"]
    width = _panel_inches(1.6, len(queries))
    fig, axes = plt.subplots(1, len(queries), figsize=(width * len(queries), 3.6), squeeze=False)
    for ax, query, heat in zip(axes[0], queries, maps, strict=True):
        overlay(ax, _picture(images_dir, query["path"], size), heat)
        ax.set_xlabel(f"query {query['index']}\n{heat.min():.2g}..{heat.max():.2g}")
        if key.startswith("nonlocal.") and "nonlocal.position" in data.arrays:
            mark_position(ax, data.arrays["nonlocal.position"], heat.shape, size)
    fig.suptitle(f"{title}\n{data.label}")
    fig.tight_layout()
    return fig


def part_weights_figure(data: FigureData) -> Figure:
    """The part-fusion weights of a figure-data file: for each part, ``a`` (its own feature) and
    ``b`` (the remainder), a bar at the mean over the file's queries and a dot per query."""
    weights = data.arrays["part_weights"]  # [queries, parts, 2]
    parts = np.arange(1, weights.shape[1] + 1)
    fig, ax = plt.subplots(figsize=(column_inches(), 3.2))
    for k, (name, shift) in enumerate((("a (own part)", -0.2), ("b (remainder)", 0.2))):
        ax.bar(parts + shift, weights[:, :, k].mean(axis=0), width=0.38, alpha=0.8, label=name)
        for per_query in weights[:, :, k]:
            ax.plot(parts + shift, per_query, "k.", ms=4)
    ax.set_xticks(parts, [f"p{p}" for p in parts])
    ax.set_xlabel("part (top to bottom)")
    ax.set_ylabel("weight")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    ax.set_title(data.label)
    fig.tight_layout()
    return fig
