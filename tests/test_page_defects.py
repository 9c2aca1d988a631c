"""The static checks of a built page: each defect is found, and a clean page has none."""

from __future__ import annotations

import pytest

from tools.page_defects import main, presentation_defects, site_defects

CLEAN = """<html><body>
<p>Rank-1 <span class="pasted-text">30.4</span> %</p>
<table><tr><th>row</th><th>mAP</th></tr><tr><td>full</td><td>43.4 ± 1.8</td></tr>
<tr><td>scratch</td><td>–</td></tr><tr><td>ratio</td><td>0.125</td></tr></table>
<div class="cell tag_parameters"><div class="cell_output">profile = "smoke"</div></div>
<p>1,049,346 parameters; seed 2026; see <code>runs/cpu/123456</code> and
<a href="https://example.org/home/user/x">a link</a>; <code>/content/reid-book</code></p>
<pre>/work/main/_build/runs and 1049346 in code are the reader's to read</pre>
<h2>Exercises<a class="headerlink" href="#exercises">#</a></h2>
</body></html>"""


def test_a_clean_page_has_no_defect():
    assert presentation_defects(CLEAN) == []


@pytest.mark.parametrize(
    ("fragment", "message"),
    [
        ('<span class="output text_plain">‘30.4’</span>', "glued value in quotes: ‘30.4’"),
        ("<span class=\"pasted-text\">'6.3'</span>", "glued value in quotes: '6.3'"),
        ("<table><tr><td>NaN</td></tr></table>", "missing value shown as 'NaN' in a table"),
        ("<table><tr><td> nan </td></tr></table>", "missing value shown as 'nan' in a table"),
        (
            "<table><tr><td>13.847351</td></tr></table>",
            "number with more than 3 decimals in a table: 13.847351",
        ),
        (
            "<div class='cell_output'><pre>PosixPath('/x/_build/results/wdp.json')</pre></div>",
            "PosixPath(...) in a cell output",
        ),
        (
            "<div class='cell tag_injected-parameters'><pre>profile = 'smoke'</pre></div>",
            "papermill's injected-parameters cell is visible",
        ),
        (
            "<div class='cell_output'><pre>wrote /work/main/_build/sweep</pre></div>",
            "absolute path in a page: /work/main/_build/sweep",
        ),
        (
            "<table><tr><td>/home/ada/data/VIPeR</td></tr></table>",
            "absolute path in a page: /home/ada/data/VIPeR",
        ),
        (
            "<p>The model has 1049346 parameters.</p>",
            "number without thousands separators: 1049346",
        ),
        ("<table><tr><td>19732</td></tr></table>", "number without thousands separators: 19732"),
    ],
)
def test_each_defect_is_found_and_named(fragment, message):
    page = CLEAN.replace("</body>", fragment + "</body>")
    assert presentation_defects(page) == [message]


def test_site_defects_names_the_page(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "index.html").write_text(CLEAN)
    (tmp_path / "book" / "a.html").write_text(CLEAN.replace("30.4", "'30.4'"))
    assert site_defects(tmp_path) == {"book/a.html": ["glued value in quotes: '30.4'"]}


def test_a_chapter_without_exercises_is_named(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "docs").mkdir()
    (tmp_path / "index.html").write_text(CLEAN)
    without = CLEAN.replace("<h2>Exercises", "<h2>Summary")
    for page in ("book/wdp.html", "book/intro.html", "book/reproduction.html", "docs/data.html"):
        (tmp_path / page).write_text(without)
    assert site_defects(tmp_path) == {"book/wdp.html": ["a chapter without exercises"]}


def test_a_missing_site_is_an_error_not_a_pass(tmp_path, capsys):
    """It used to print '0 page(s) with defects' and exit 0."""
    assert main([str(tmp_path / "no-site")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no-site has no index.html; build the site first" in err
