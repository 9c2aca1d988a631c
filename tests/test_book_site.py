"""Run every chapter (smoke), build the site, and open each page in headless Chromium."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reid_lib.book.trained_figures import (
    SINGLE_RUN_ROWS,
    trained_comparisons,
    trained_figure_data,
)
from reid_lib.reports import book_numbers, glued_numbers
from tools import build_site as site
from tools import run_book as run
from tools.check_site import check_site
from tools.page_defects import site_defects

pytestmark = pytest.mark.slow
# The chapters import the engine; until it is installed there is no book to build.
pytest.importorskip("reid_lib.engine.experiment", reason="the chapters need reid_lib.engine")


RESULTS = Path(__file__).resolve().parents[1] / "results"


@pytest.fixture(scope="module")
def executed_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("book")
    runs = run.run_book(
        run.resolve_chapters(None), {"profile": "smoke"}, tmp / "executed", tmp / "results"
    )
    assert [r.error for r in runs if r.error] == []
    return tmp / "executed"


@pytest.fixture(scope="module")
def html_dir(executed_dir):
    return site.build(
        site.stage(executed_dir, executed_dir.parent / "stage"), executed_dir.parent / "site"
    )


def test_chapters_glue_exactly_the_numbers_of_the_results_files(executed_dir):
    """The book cites every number the committed results files give, each as the file gives it."""
    glued = {}
    for notebook in sorted(executed_dir.rglob("*.ipynb")):
        glued.update(glued_numbers(notebook))
    assert glued == book_numbers(RESULTS)


#: The chapters that draw the CPU track's trained runs: the array each one's figure needs, and the
#: rows it draws (None: every row).
TRAINED_FIGURES = {
    "backbone_nonlocal": ("nonlocal", SINGLE_RUN_ROWS),
    "msg_tsa": ("tsa", SINGLE_RUN_ROWS),
    "wdp": ("part_weights", SINGLE_RUN_ROWS),
    "losses_training": ("loss", SINGLE_RUN_ROWS),
    "evaluation": ("ranked", SINGLE_RUN_ROWS),
    "explorer": ("ranked", None),
    "activation_maps": ("activation", SINGLE_RUN_ROWS),
}


def chapter_numbers(executed_dir, chapter: str) -> dict:
    return json.loads((executed_dir.parent / "results" / f"{chapter}.json").read_text())["numbers"]


def test_every_chapter_on_a_trained_model_draws_the_committed_runs(executed_dir):
    """Each of them shows every committed figure-data file that holds what its figure needs."""
    for chapter, (needs, rows) in TRAINED_FIGURES.items():
        expected = [data.label for data in trained_figure_data(needs, rows=rows)]
        assert expected, f"no committed figure data holds {needs!r} for {chapter}"
        assert chapter_numbers(executed_dir, chapter)["trained_figures"] == expected, chapter


def test_activation_maps_draws_the_committed_comparisons(executed_dir):
    """PCB against the full model, and the four compared models, on the same queries."""
    drawn = chapter_numbers(executed_dir, "activation_maps")["trained_comparisons"]
    for key, rows, needs in (
        ("maps", ("pcb", "full"), "activation"),
        ("ranked_lists", ("resnet-ide", "pcb", "hpm", "full"), "ranked"),
    ):
        groups = trained_comparisons(rows, needs)
        assert groups, f"no committed figure data of {rows} on the same queries"
        assert drawn[key] == [[data.label for data in g.values()] for g in groups], key


def test_site_has_a_page_per_chapter(html_dir):
    for f in run.toc_files():
        assert (html_dir / f"{f}.html").is_file()


def test_no_page_shows_a_presentation_defect(html_dir):
    """No quoted glued number, NaN or long decimals in a table, PosixPath, or injected cell."""
    assert site_defects(html_dir) == {}


def test_every_page_loads_with_its_images_and_the_ranked_list(chromium, html_dir):
    reports = check_site(html_dir)
    assert {
        r.page: (r.errors, r.broken_images) for r in reports if r.errors or r.broken_images
    } == {}
    assert sum(r.images for r in reports) > 0


def test_stage_refuses_a_missing_executed_chapter(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"run `python -m tools\.run_book` first"):
        site.stage(tmp_path / "nothing", tmp_path / "stage")


def test_build_site_says_a_missing_chapter_in_one_line(tmp_path, capsys):
    assert site.main(["--executed", str(tmp_path / "nothing"), "--output", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("python -m tools.build_site: error: ")
    assert "run `python -m tools.run_book` first" in err
