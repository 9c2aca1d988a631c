"""The browser check itself: it must notice a broken image, a missing ranked-list figure and an
equation MathJax did not typeset."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from reid_lib.book.legibility import COLUMN_PX
from tools.check_site import RANKED_LIST_PAGE, check_site, site_pages

PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cf00000301010018dd8db00000000049454e44ae426082"
)


def page(title: str, body: str) -> str:
    return f"<!DOCTYPE html><html><head><title>{title}</title></head><body>{body}</body></html>"


@pytest.fixture
def site(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "ok.png").write_bytes(PNG_1X1)
    (tmp_path / "index.html").write_text('<meta http-equiv="Refresh" content="0; url=good.html" />')
    (tmp_path / "good.html").write_text(page("good", '<img src="ok.png">'))
    (tmp_path / "book" / "broken.html").write_text(page("broken", '<img src="../missing.png">'))
    return tmp_path


def test_redirect_stubs_and_assets_are_not_pages(site):
    (site / "_static").mkdir()
    (site / "_static" / "x.html").write_text(page("x", ""))
    assert [p.name for p in site_pages(site)] == ["broken.html", "good.html"]


def test_check_reports_broken_images_and_a_missing_ranked_list(chromium, site):
    reports = {r.page: r for r in check_site(site)}
    assert reports["good.html"].images == 1 and reports["good.html"].broken_images == []
    assert reports["book/broken.html"].broken_images == ["../missing.png"]
    assert reports[RANKED_LIST_PAGE].errors == ["the evaluation page is missing"]

    (site / RANKED_LIST_PAGE).write_text(page("evaluation", "<p>no figure</p>"))
    reports = {r.page: r for r in check_site(site)}
    assert reports[RANKED_LIST_PAGE].errors == [
        "no visible ranked-list figure (figure#fig-ranked-list img)"
    ]


def test_a_site_without_index_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="build the site first"):
        check_site(tmp_path)


def test_an_equation_counts_only_once_the_sites_own_mathjax_typeset_it(chromium, site):
    # The MathJax the book's build copies into _static (the sphinx-mathjax-offline extension).
    offline = Path(importlib.import_module("sphinx-mathjax-offline").__file__).parent
    (site / "_static").mkdir()
    (site / "_static" / "mathjax").symlink_to(offline / "static" / "mathjax")
    equation = r'<span class="math notranslate nohighlight">\(a^2 + b^2\)</span>'
    script = '<script defer src="_static/mathjax/tex-chtml.js"></script>'
    (site / "typeset.html").write_text(page("typeset", script + equation))
    (site / "raw.html").write_text(page("raw", equation))
    reports = {r.page: r for r in check_site(site)}
    assert reports["typeset.html"].errors == []
    assert reports["raw.html"].errors == ["1 equation(s) not typeset (MathJax did not load?)"]


def test_a_code_block_wider_than_its_column_is_reported_and_the_book_css_wraps_it(chromium, site):
    long_line = "python -m tools.sweep run --profile cpu " + "--rows baseline " * 20
    block = f'<main style="width: 700px"><pre>{long_line}</pre><pre>short</pre></main>'
    (site / "wide.html").write_text(page("wide", block))
    reports = {r.page: r for r in check_site(site)}
    assert reports["wide.html"].errors == [
        f"block wider than the column at 1280 px: {long_line[:60]!r}"
    ]
    css = (Path(__file__).resolve().parents[1] / "_static" / "book.css").read_text()
    styled = block.replace("<pre>", '<div class="highlight"><pre>').replace(
        "</pre>", "</pre></div>"
    )
    (site / "wide.html").write_text(page("wide", f"<style>{css}</style>{styled}"))
    reports = {r.page: r for r in check_site(site)}
    assert reports["wide.html"].errors == []


def test_a_figure_shrunk_below_the_assumed_column_is_reported(chromium, site, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(9, 1), dpi=100)  # 900 px: shrunk to its column
    fig.savefig(site / "wide.png")
    plt.close(fig)
    figure = '<div class="cell_output"><img src="wide.png" style="max-width: 100%"></div>'
    (site / "narrow.html").write_text(page("narrow", f'<div style="width: 500px">{figure}</div>'))
    roomy = f'<div style="width: {COLUMN_PX}px">{figure}</div>'
    (site / "roomy.html").write_text(page("roomy", roomy))
    reports = {r.page: r for r in check_site(site)}
    assert reports["narrow.html"].errors == [
        f"figure shown 500 of 900 px wide, in a column under {COLUMN_PX} px"
    ]
    assert reports["roomy.html"].errors == []


def test_a_table_wider_than_the_column_or_its_clipping_box_is_reported(chromium, site):
    cells = "".join(f"<td>column{i}ofawidetable</td>" for i in range(12))
    wide = f'<main style="width: 700px"><article><table><tr>{cells}</tr></table></article></main>'
    narrow = (
        '<main style="width: 700px"><article><table><tr><td>a</td></tr></table></article></main>'
    )
    # Narrower than the column, but in an output box that scrolls and is narrower still.
    four = "".join(f"<td>column{i}</td>" for i in range(4))
    boxed = (
        '<main style="width: 700px"><article><div style="overflow-x: auto; width: 300px">'
        f'<table style="width: 400px"><tr>{four}</tr></table></div></article></main>'
    )
    (site / "wide.html").write_text(page("wide", wide))
    (site / "narrow.html").write_text(page("narrow", narrow))
    (site / "boxed.html").write_text(page("boxed", boxed))
    reports = {r.page: r for r in check_site(site)}
    [error] = reports["wide.html"].errors
    assert error.startswith("table wider than the column at 1280 px (")
    assert error.endswith("px: column0ofawidetable column1ofawidetable column2ofawidetable)")
    assert reports["narrow.html"].errors == []
    assert reports["boxed.html"].errors == [
        "table wider than the column at 1280 px (400 px in 300 px: column0 column1 column2 column3)"
    ]
