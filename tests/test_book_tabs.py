import base64

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from bs4 import BeautifulSoup
from IPython.display import Markdown

from reid_lib.book.profile_sections import SMOKE_LINE, show_profiles
from reid_lib.book.tabs import dataset_tab_label, folded, tab_set
from reid_lib.reports import styled


def soup_of(tabs, name="ablation tables"):
    return BeautifulSoup(tab_set(tabs, name=name).data, "html.parser")


def test_each_tab_has_an_input_a_label_and_its_content_and_only_the_first_is_selected():
    figure = plt.figure()
    figure.add_subplot().plot([0, 1], [1, 0])
    assert dataset_tab_label("cpu", "viper") == "viper (cpu)"
    tabs = {
        "viper (cpu)": [styled(pd.DataFrame({"mAP": [41.26]})), "Not yet run: pcb.", figure],
        "grid (cpu)": ["<b>bold?</b>"],
    }
    soup = soup_of(tabs)
    tab_set_div = soup.select_one("div.sd-tab-set")
    inputs = tab_set_div.find_all("input", recursive=False)
    labels = tab_set_div.find_all("label", recursive=False)
    contents = tab_set_div.find_all("div", class_="sd-tab-content", recursive=False)
    assert [label.get_text() for label in labels] == ["viper (cpu)", "grid (cpu)"]
    assert [i["id"] for i in inputs] == ["ablation-tables-0", "ablation-tables-1"]
    assert {i["name"] for i in inputs} == {"ablation-tables"}
    assert [label["for"] for label in labels] == ["ablation-tables-0", "ablation-tables-1"]
    assert [i.has_attr("checked") for i in inputs] == [True, False]
    # Tabs of one dataset switch together across the page.
    assert [label["data-sync-id"] for label in labels] == ["viper-cpu", "grid-cpu"]
    viper, grid = contents
    assert viper.find("td").get_text().strip() == "41.3"  # the Styler's formatting is kept
    assert viper.find("p").get_text() == "Not yet run: pcb."
    image = viper.find("img")
    assert base64.b64decode(image["src"].split(",", 1)[1]).startswith(b"\x89PNG")
    assert image["alt"] == "viper (cpu): figure"
    assert grid.find("p").get_text() == "<b>bold?</b>"  # text is escaped, not markup
    assert grid.find("b") is None


def test_a_figure_is_closed_once_drawn_into_a_tab():
    figure = plt.figure()
    tab_set({"one": [figure]}, name="figures")
    assert figure.number not in plt.get_fignums()


def test_two_tab_sets_on_a_page_use_their_own_radio_groups():
    first = soup_of({"a": ["x"]}, name="ablation tables")
    second = soup_of({"a": ["x"]}, name="ablation verdicts")
    assert first.find("input")["name"] != second.find("input")["name"]
    assert first.find("label")["data-sync-id"] == second.find("label")["data-sync-id"]


def test_no_tabs_and_unknown_items_are_refused_with_the_set_named():
    with pytest.raises(ValueError, match="'ablation tables'"):
        tab_set({}, name="ablation tables")
    with pytest.raises(TypeError, match="or HTML, not int"):
        tab_set({"a": [3]}, name="numbers")


def test_a_fold_holds_its_items_under_one_line_and_closes_its_figures():
    figure = plt.figure()
    inner = tab_set({"a": ["inside a tab"]}, name="inner")
    fold = BeautifulSoup(folded("Smoke <runs>", ["a note", figure, inner]).data, "html.parser")
    details = fold.select_one("details.reid-folded")
    assert not details.has_attr("open"), "closed until the reader opens it"
    assert details.find("summary").get_text() == "Smoke <runs>"
    assert details.find("p").get_text() == "a note"
    assert details.find("img")["alt"] == "Smoke <runs>: figure"
    assert details.select_one("div.sd-tab-set input")["name"] == "inner", "HTML is kept as it is"
    assert figure.number not in plt.get_fignums()


def test_committed_profiles_come_first_under_headings_and_smoke_last_folded(monkeypatch):
    import reid_lib.book.profile_sections as sections

    shown = []
    monkeypatch.setattr(sections, "display", shown.append)
    table = styled(pd.DataFrame({"mAP": [41.26]}))
    figure = plt.figure()
    show_profiles({"smoke": ["smoke note"], "cpu": [table, "a line", figure]}, ": the study")
    heading, shown_table, line, shown_figure, fold = shown
    assert isinstance(heading, Markdown) and heading.data == "### `cpu` profile: the study"
    assert shown_table is table and shown_figure is figure
    assert isinstance(line, Markdown) and line.data == "a line"
    assert figure.number not in plt.get_fignums(), "closed once shown"
    last = BeautifulSoup(fold.data, "html.parser")
    assert last.find("summary").get_text() == SMOKE_LINE
    assert last.find("p").get_text() == "smoke note"
