"""A figure's legibility as the site shows it: its smallest text, shrunk to the column, against the
page's small print, and legends over data; measured when drawn, read back from the PNG."""

from __future__ import annotations

import base64
import io
import json
from dataclasses import asdict

import matplotlib
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from reid_lib.book.legibility import (
    COLUMN_PX,
    PNG_KEY,
    SMALL_PRINT_PX,
    _PrinterWithLegibility,
    measure,
    png_defects,
    png_metadata,
    shown_defects,
)
from tools.page_defects import presentation_defects


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def line_figure(legend_loc: str | None = None, **legend) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(6.4, 4), dpi=100)
    ax.plot([0, 1], [0, 1], label="diagonal")
    ax.set_title("rise")
    if legend_loc:
        ax.legend(loc=legend_loc, **legend)
    return fig


def png_of(fig: plt.Figure, record: bool = True) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata=png_metadata(fig) if record else None)
    return buffer.getvalue()


def test_the_smallest_text_is_measured_in_png_pixels():
    fig = line_figure()
    fig.axes[0].text(0.1, 0.8, "tiny", fontsize=7.2)
    record = measure(fig)
    assert record.smallest_text == "tiny"
    assert record.smallest_text_px == pytest.approx(7.2 * 100 / 72)  # 10 px
    fig.axes[0].texts[0].set_visible(False)
    assert measure(fig).smallest_text_px == pytest.approx(10 * 100 / 72, abs=0.01), "tick labels"


def test_a_legend_over_the_line_is_caught_and_one_outside_the_axes_is_not():
    assert measure(line_figure("center")).legends_over_data == ("rise",)
    assert measure(line_figure("upper left")).legends_over_data == ()  # the line rises away
    outside = line_figure("upper left", bbox_to_anchor=(1.02, 1))
    assert measure(outside).legends_over_data == ()
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    ax.plot([0, 1], [20, 7], label="total")
    ax.plot([0, 0.5, 1], [3, 1, 0.0], label="term")  # log(0): the line runs down out of the axes
    ax.set_yscale("log")
    ax.set_title("losses")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=2)
    assert measure(fig).legends_over_data == (), "clipped data under a legend below the axes"
    fig, ax = plt.subplots()
    ax.bar([0, 1], [1, 1], label="bars")
    ax.legend(loc="center")
    ax.set_title("bars")
    assert measure(fig).legends_over_data == ("bars",)


def test_texts_drawn_over_each_other_are_caught_and_neighbours_are_not():
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.set_axis_off()
    ax.text(0.1, 0.5, "100.0", fontsize=11)
    ax.text(0.16, 0.5, "88.3", fontsize=11)  # starts inside the first
    ax.text(0.6, 0.5, "apart", fontsize=11)
    assert measure(fig).texts_over_texts == ("'100.0' on '88.3'",)
    ax.texts[1].set_x(0.3)
    assert measure(fig).texts_over_texts == ()
    fig.axes[0].text(0.6, 0.2, "two\nlines", fontsize=11)  # drawn line by line, one box
    assert measure(fig).texts_over_texts == ()
    ax.text(0.1, 0.1, "slanted-label", rotation=45, fontsize=11)
    ax.text(
        0.18, 0.1, "slanted-label", rotation=45, fontsize=11
    )  # parallel: boxes overlap, glyphs do not
    assert measure(fig).texts_over_texts == ()
    record = {**asdict(measure(fig)), "texts_over_texts": ["'a' on 'b'"]}
    assert shown_defects(record, 300) == ["figure texts drawn over each other: 'a' on 'b'"]


def test_text_shrunk_by_a_wide_png_falls_below_the_small_print():
    record = {
        "smallest_text_px": 2 * SMALL_PRINT_PX,
        "smallest_text": "x",
        "legends_over_data": [],
        "texts_over_texts": [],
    }
    assert shown_defects(record, 2 * COLUMN_PX) == []  # shrunk by half: just the small print
    assert len(shown_defects(record, 2 * COLUMN_PX + 10)) == 1
    assert shown_defects({**record, "smallest_text_px": SMALL_PRINT_PX}, COLUMN_PX // 2) == []
    [defect] = shown_defects({**record, "legends_over_data": ["loss"]}, 100)
    assert defect == "a legend covers the data of 'loss'"


def test_the_record_travels_in_the_png_and_a_png_without_one_is_named():
    fig = line_figure("center")
    fig.axes[0].text(0.1, 0.8, "tiny", fontsize=6)
    defects = png_defects(png_of(fig))
    assert defects[0].startswith("figure text 8.3 px high ('tiny')") and len(defects) == 2
    assert png_defects(png_of(line_figure(), record=False)) == [
        f"a figure without its legibility record ({PNG_KEY!r}): not drawn by a chapter"
    ]


def test_the_page_check_reads_embedded_and_linked_figures(tmp_path):
    with matplotlib.rc_context({"font.size": 11}):  # the book's type size
        good, bad = png_of(line_figure()), png_of(line_figure("center"))
    (tmp_path / "bad.png").write_bytes(bad)
    embedded = base64.b64encode(good).decode()
    page = (
        f'<html><body><div class="cell_output"><img src="data:image/png;base64,{embedded}">'
        '<img src="bad.png"></div><img src="logo.png"></body></html>'
    )
    assert presentation_defects(page, tmp_path) == ["a legend covers the data of 'rise'"]
    assert presentation_defects(page) == [], "without the page's folder only embedded figures"


def test_the_printer_passes_the_record_to_ipythons_printer():
    calls = []
    printer = _PrinterWithLegibility(lambda fig, **kwargs: calls.append(kwargs) or "png")
    assert printer(line_figure()) == "png"
    record = json.loads(calls[0]["metadata"][PNG_KEY])
    assert record["smallest_text_px"] == pytest.approx(13.89, abs=0.01)
