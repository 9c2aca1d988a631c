"""The trained-run figures every build draws from committed figure-data files."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from reid_lib.book.chapter import start
from reid_lib.book.figures import (
    part_weights_figure,
    query_maps_figure,
    trained_maps_comparison,
    trained_ranked_comparison,
    trained_run_figure,
)
from reid_lib.book.trained_figures import (
    TRAINED_PROFILE,
    WRITE_COMMAND,
    show_trained_comparisons,
    show_trained_figures,
    trained_comparisons,
    trained_figure_data,
    write_command,
)
from reid_lib.engine.config import load_yaml, preset_path
from reid_lib.engine.figure_data import FigureData, figure_data_path, read_figure_data

QUERIES, PARTS, TOP = 3, 4, 5


def write_figure_data(
    results,
    name: str,
    arrays: dict[str, np.ndarray],
    dataset: str = "synthetic",
    *,
    row: str = "full",
    seed: int = 0,
    split: int | None = None,
) -> FigureData:
    """A figure-data file of a smoke-config run ``name`` of ``row`` on ``dataset``, holding
    ``arrays``."""
    config = load_yaml(preset_path("smoke")).to_dict()
    config["data"]["dataset"] = dataset
    meta = {
        "run": {
            "name": name,
            "profile": TRAINED_PROFILE,
            "row": row,
            "seed": seed,
            "dataset": dataset,
            "split": split,
        },
        "queries": [{"index": i, "path": f"query/{i}.jpg"} for i in (2, 5, 9)],
        "gallery": {str(i): f"gallery/{i}.jpg" for i in range(TOP)},
        "provenance": {"git_commit": "0123456789abcdef", "config": config},
    }
    path = figure_data_path(results, TRAINED_PROFILE, dataset, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path.with_suffix(".npz"), **arrays)
    path.write_text(json.dumps(meta))
    return read_figure_data(path)


def pictures(folder):
    """The query and gallery images the figure-data files of :func:`write_figure_data` name."""
    from PIL import Image

    for relative in [f"query/{i}.jpg" for i in (2, 5, 9)] + [
        f"gallery/{i}.jpg" for i in range(TOP)
    ]:
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (32, 64), (90, 120, 200)).save(folder / relative)
    return folder


def ranked() -> dict[str, np.ndarray]:
    return {
        "ranked.gallery_index": np.tile(np.arange(TOP), (QUERIES, 1)),
        "ranked.match": np.tile(np.arange(TOP) % 2 == 0, (QUERIES, 1)),
    }


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_only_files_holding_the_array_a_figure_needs_are_drawn(tmp_path, capsys, monkeypatch):
    weights = np.full((QUERIES, PARTS, 2), 0.5, dtype=np.float32)
    write_figure_data(
        tmp_path, "with-weights", {**ranked(), "part_weights": weights}, row="baseline"
    )
    affinity = np.full((QUERIES, 4, 2), 1 / 8, dtype=np.float32)
    write_figure_data(tmp_path, "with-affinity", {**ranked(), "nonlocal.stage1": affinity})
    write_figure_data(tmp_path, "a-real-set", ranked(), dataset="grid")
    names = {
        need: [d.meta["run"]["name"] for d in trained_figure_data(need, tmp_path)]
        for need in ("part_weights", "nonlocal", "ranked", "tsa", "nonlocal.stage")
    }
    assert names == {
        "part_weights": ["with-weights"],
        "nonlocal": ["with-affinity"],
        "ranked": ["with-affinity", "with-weights", "a-real-set"],
        "tsa": [],
        "nonlocal.stage": [],
    }, "a whole name or a dotted prefix, never a partial word"

    monkeypatch.delenv("REID_DATA_ROOT", raising=False)
    ch = start("x", profile="smoke", results_dir=str(tmp_path / "out"), runs_dir=str(tmp_path))
    seen = []
    labels = show_trained_figures(
        ch,
        "ranked",
        lambda data, images, size: seen.append((images, size)) or plt.figure(),
        tmp_path,
    )
    assert labels == [d.label for d in trained_figure_data("ranked", tmp_path)][:2]
    assert [label.split(",")[0] for label in labels] == [
        "full on synthetic (seed 0)",
        "baseline on synthetic (seed 0)",
    ], "the synthetic set first: every build has its images"
    synthetic = tmp_path / "data" / "synthetic-tiny-seed0"
    assert seen == [(synthetic, (64, 32))] * 2, "grid: no data_root here, so no figure"
    said = capsys.readouterr().out
    assert "full on grid (seed 0), commit 0123456789: not drawn here" in said
    assert "research-only" in said and "peta-reid/GRID/" in said
    curves = show_trained_figures(ch, "ranked", lambda *a: plt.figure(), tmp_path, pictures=False)
    assert len(curves) == 3, "a figure without pictures is drawn for every file"
    grid = tmp_path / "real" / "peta-reid" / "GRID"
    grid.mkdir(parents=True)
    ch = start(
        "x",
        profile="smoke",
        results_dir=str(tmp_path / "out"),
        runs_dir=str(tmp_path),
        data_root=str(tmp_path / "real"),
    )
    seen.clear()
    show_trained_figures(
        ch, "ranked", lambda data, images, size: seen.append(images) or plt.figure(), tmp_path
    )
    assert seen == [synthetic, synthetic, grid], "grid: read under the chapter's data_root"
    assert (synthetic / "manifest.json").is_file()
    assert (
        show_trained_figures(ch, "tsa", lambda *a: pytest.fail("nothing to draw"), tmp_path) == []
    )
    assert WRITE_COMMAND in capsys.readouterr().out


def test_a_query_map_marks_the_affinity_position_and_names_the_run(tmp_path):
    affinity = np.zeros((QUERIES, 8, 4), dtype=np.float32)
    affinity[:, 2, 1] = 1
    data = write_figure_data(
        tmp_path,
        "nl",
        {**ranked(), "nonlocal.stage1": affinity, "nonlocal.position": np.array([2, 1])},
    )
    images = pictures(tmp_path / "images")
    fig = query_maps_figure(data, "nonlocal.stage1", images, (64, 32), title="affinity")
    assert len(fig.axes) == QUERIES
    (star,) = fig.axes[0].lines
    # position (row 2, col 1) of an 8x4 map on a 64x32 image: the centre of its 8x8 cell
    assert (star.get_xdata()[0], star.get_ydata()[0]) == (12.0, 20.0)
    assert fig._suptitle.get_text() == f"affinity\n{data.label}"
    tsa = write_figure_data(tmp_path, "tsa", {**ranked(), "tsa": affinity})
    assert not query_maps_figure(tsa, "tsa", images, (64, 32), title="tsa").axes[0].lines


def test_part_weight_bars_stand_at_the_mean_over_queries(tmp_path):
    weights = np.random.default_rng(0).uniform(size=(QUERIES, PARTS, 2)).astype(np.float32)
    data = write_figure_data(tmp_path, "w", {**ranked(), "part_weights": weights})
    (ax,) = part_weights_figure(data).axes
    heights = [patch.get_height() for patch in ax.patches]
    expected = np.concatenate([weights[:, :, 0].mean(0), weights[:, :, 1].mean(0)])
    assert np.allclose(heights, expected)
    assert len(ax.lines) == 2 * QUERIES, "a row of dots per query and weight"


def test_ranked_lists_alone_leave_the_maps_out(tmp_path):
    maps = np.zeros((QUERIES, 8, 4), dtype=np.float16)
    arrays = {**ranked(), "activation.stage1": maps, "tsa": maps}
    data = write_figure_data(tmp_path, "run", arrays)
    images = pictures(tmp_path / "images")
    with_maps = trained_run_figure(data, images, (64, 32))
    alone = trained_run_figure(data, images, (64, 32), with_maps=False)
    shown = [ax for ax in with_maps.axes if ax.axison]
    assert len(shown) == QUERIES * (1 + 2 + TOP), "a line of maps and a line of ranks per query"
    assert [ax.get_title() for ax in shown[:3]] == ["image", "stage1", "tsa"]
    assert len([ax for ax in alone.axes if ax.axison]) == QUERIES * TOP


def test_one_run_figures_draw_the_first_file_of_each_dataset_and_row(tmp_path):
    write_figure_data(tmp_path, "full-split1-seed1", ranked(), "grid", split=1, seed=1)
    write_figure_data(tmp_path, "full-split1-seed0", ranked(), "grid", split=1)
    write_figure_data(tmp_path, "pcb-split1-seed1", ranked(), "grid", row="pcb", split=1, seed=1)
    write_figure_data(tmp_path, "baseline-seed0", ranked(), row="baseline")
    names = [d.meta["run"]["name"] for d in trained_figure_data("ranked", tmp_path)]
    assert names == ["baseline-seed0", "full-split1-seed0"], "seed 0 first; no comparison model"
    every = [d.meta["run"]["name"] for d in trained_figure_data("ranked", tmp_path, rows=None)]
    assert every == ["baseline-seed0", "full-split1-seed0", "pcb-split1-seed1"]


def test_comparisons_group_the_rows_that_share_dataset_split_seed_and_queries(tmp_path):
    for seed in (0, 1):
        write_figure_data(tmp_path, f"full-s{seed}", ranked(), "grid", split=1, seed=seed)
    write_figure_data(tmp_path, "pcb-s1", ranked(), "grid", row="pcb", split=1, seed=1)
    write_figure_data(tmp_path, "pcb-split2", ranked(), "grid", row="pcb", split=2, seed=1)
    write_figure_data(tmp_path, "pcb-synthetic", ranked(), row="pcb", seed=1)
    groups = trained_comparisons(("pcb", "full"), "ranked", tmp_path)
    assert [{row: d.meta["run"]["name"] for row, d in g.items()} for g in groups] == [
        {"pcb": "pcb-s1", "full": "full-s1"}
    ], "the same split and seed, in the order asked; a group without every row is left out"
    assert list(groups[0]) == ["pcb", "full"]
    assert trained_comparisons(("pcb", "full"), "activation", tmp_path) == []


def test_shown_comparisons_name_their_runs_or_the_command_that_writes_them(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.delenv("REID_DATA_ROOT", raising=False)
    ch = start("x", profile="smoke", results_dir=str(tmp_path / "out"), runs_dir=str(tmp_path))
    rows = ("pcb", "full")
    assert show_trained_comparisons(ch, rows, "ranked", lambda *a: pytest.fail(), tmp_path) == []
    assert write_command(rows) in capsys.readouterr().out
    assert "--rows pcb full" in write_command(rows)
    for row in rows:
        write_figure_data(tmp_path, row, ranked(), "grid", row=row, split=0)
    seen = []
    labels = show_trained_comparisons(
        ch, rows, "ranked", lambda runs, images, size: seen.append((list(runs), images)), tmp_path
    )
    assert seen == [] and labels == [], "grid's images: none without data_root"
    assert "pcb on grid (split 0, seed 0), commit 0123456789: not drawn" in capsys.readouterr().out
    pictures(tmp_path / "real" / "peta-reid" / "GRID")
    ch = start(
        "x", profile="smoke", results_dir=str(tmp_path / "o"), data_root=str(tmp_path / "real")
    )
    labels = show_trained_comparisons(
        ch, rows, "ranked", lambda runs, images, size: seen.append((list(runs), images)), tmp_path
    )
    assert seen == [(["pcb", "full"], tmp_path / "real" / "peta-reid" / "GRID")]
    assert labels == [[f"{row} on grid (split 0, seed 0), commit 0123456789" for row in rows]]


def test_trained_maps_comparison_draws_each_run_on_the_same_queries(tmp_path):
    stages = ("stage1", "stage2")
    runs = {}
    for row, value in (("pcb", 0.0), ("full", 1.0)):
        maps = {f"activation.{s}": np.full((QUERIES, 8, 4), value, np.float16) for s in stages}
        runs[row] = write_figure_data(tmp_path, row, {**ranked(), **maps}, row=row)
    fig = trained_maps_comparison(runs, pictures(tmp_path / "images"), (64, 32))
    assert len(fig.axes) == QUERIES * (1 + len(runs) * len(stages))
    assert {ax.get_ylabel() for ax in fig.axes} == {"", "pcb", "full"}
    heat = [ax.images[1].get_array() for ax in fig.axes if len(ax.images) == 2]
    assert sorted({float(h.max()) for h in heat}) == [0.0, 1.0], "each run's own maps"
    assert fig._suptitle.get_text() == "\n".join(d.label for d in runs.values())


def test_trained_ranked_comparison_draws_a_row_per_run_for_one_query(tmp_path):
    runs = {}
    for row, first_match in (("pcb", False), ("full", True)):
        arrays = ranked()
        arrays["ranked.match"][1, 0] = first_match
        runs[row] = write_figure_data(tmp_path, row, arrays, row=row)
    fig = trained_ranked_comparison(runs, pictures(tmp_path / "images"), (64, 32), query=1)
    assert len(fig.axes) == len(runs) * (1 + TOP)
    first_ranked = [fig.axes[r * (1 + TOP) + 1] for r in range(len(runs))]
    colours = [ax.patches[0].get_edgecolor()[:3] for ax in first_ranked]
    assert colours[0] != colours[1], "pcb's first is another person, full's the same"
    assert not any(ax.patches[0].get_fill() for ax in first_ranked), "a border round the picture"
    assert all(ax.images[0].get_array().shape[:2] == (64, 32) for ax in fig.axes)
    width, height = fig.get_size_inches()
    panel = width / (1 + TOP + 0.5)
    assert height < len(runs) * (2 * panel + 0.3), "a row about as high as a picture"
    assert [fig.axes[r * (1 + TOP)].get_ylabel() for r in range(len(runs))] == ["pcb", "full"]
    assert fig._suptitle.get_text().splitlines() == [d.label for d in runs.values()]
