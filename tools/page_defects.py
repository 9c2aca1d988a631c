"""Presentation defects a reader would see on a built page, found in its HTML (no browser).

Usage::

    python -m tools.page_defects [HTML_DIR]

Each check names what it found:

- a glued value shown inside quotes (a string pasted with ``{glue}`` instead of ``{glue:text}``);
- ``NaN`` (or ``nan``, ``None``, ``<NA>``) in a table cell;
- a number with more than three decimals in a table cell;
- a ``PosixPath(...)`` in a cell's output;
- an absolute path of the machine that built the page, in a cell's output or a table;
- a number of five or more digits without thousands separators in the prose or a table;
- papermill's injected-parameters cell left visible;
- a chapter without exercises (every chapter but those of :data:`NO_EXERCISES`);
- a figure in a cell's output whose text, shrunk to the page's column, is smaller than the
  page's small print, whose legend covers its data, or whose texts are drawn over each other
  (read from the record each chapter writes into its PNGs, ``reid_lib.book.legibility``), or a
  figure without that record.
"""

from __future__ import annotations

import argparse
import base64
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from bs4 import BeautifulSoup

from reid_lib.book.legibility import png_defects
from reid_lib.errors import run_reported
from tools.build_site import INJECTED_TAG, SITE
from tools.check_site import site_pages

EMBEDDED_PNG = "data:image/png;base64,"
MISSING_VALUES = frozenset({"nan", "NaN", "None", "<NA>", "NaT"})
LONG_DECIMALS = re.compile(r"^[-+]?\d+\.\d{4,}$")
QUOTES = ("'", '"', "‘", "’", "“", "”")
#: A path under a folder that only exists on the machine that ran the build (not a URL's path).
MACHINE_PATH = re.compile(r"(?<![\w.:/~])/(?:home|root|work|tmp|Users|mnt|opt|var|srv)/[\w.\-/]+")
#: An integer of five or more digits written without separators (``1049346``, not ``1,049,346``).
UNSEPARATED = re.compile(r"(?<![\w.,:/#-])\d{5,}(?![\w.,:/-])")
#: The chapters that have no exercises: the introduction, the results and the bibliography.
NO_EXERCISES = frozenset({"intro", "reproduction", "references"})


def presentation_defects(html: str, page_dir: Path | None = None) -> list[str]:
    """Every defect of one page, each as a short message quoting what was found; its figures'
    files are read from ``page_dir`` (None: only the figures embedded in the page)."""
    return _defects(BeautifulSoup(html, "html.parser"), page_dir)


def figure_png(src: str, page_dir: Path | None) -> bytes | None:
    """The PNG an ``<img src>`` shows: embedded (``data:image/png;base64,...``) or a file beside
    the page; None for another format, or a file without a ``page_dir``."""
    if src.startswith(EMBEDDED_PNG):
        return base64.b64decode(src[len(EMBEDDED_PNG) :])
    if page_dir is None or not src.lower().endswith(".png") or "://" in src:
        return None
    return (page_dir / src).read_bytes()


def _defects(soup: BeautifulSoup, page_dir: Path | None) -> list[str]:
    """:func:`presentation_defects` of a parsed page."""
    defects = []
    for image in soup.select(".cell_output img"):
        png = figure_png(image.get("src", ""), page_dir)
        if png is not None:
            defects += png_defects(png)
    for pasted in soup.select("span.pasted-text, span.output.text_plain"):
        text = pasted.get_text().strip()
        if len(text) >= 2 and text.startswith(QUOTES) and text.endswith(QUOTES):
            defects.append(f"glued value in quotes: {text}")
    for cell in soup.select("table td, table th"):
        text = cell.get_text().strip()
        if text in MISSING_VALUES:
            defects.append(f"missing value shown as {text!r} in a table")
        elif LONG_DECIMALS.match(text):
            defects.append(f"number with more than 3 decimals in a table: {text}")
    for output in soup.select(".cell_output"):
        if "PosixPath(" in output.get_text():
            defects.append("PosixPath(...) in a cell output")
    for shown in soup.select(".cell_output, table"):
        defects += [f"absolute path in a page: {m}" for m in MACHINE_PATH.findall(shown.get_text())]
    for text in soup.find_all(string=True):
        if text.find_parent(["pre", "code", "script", "style", "head"]) is None:
            found = UNSEPARATED.findall(text)
            defects += [f"number without thousands separators: {m}" for m in found]
    if soup.select(f".tag_{INJECTED_TAG}"):
        defects.append("papermill's injected-parameters cell is visible")
    return defects


def site_defects(html_dir: Path) -> dict[str, list[str]]:
    """:func:`presentation_defects` of every page of the site that has any, by page, and each
    chapter (a page under ``book/``) without an *Exercises* section."""
    found = {}
    for path in site_pages(html_dir):
        soup = BeautifulSoup(path.read_text(errors="replace"), "html.parser")
        defects = _defects(soup, path.parent)
        page = path.relative_to(html_dir)
        if page.parts[0] == "book" and page.stem not in NO_EXERCISES:
            headings = soup.select("h2, h3")
            if not any(h.get_text().strip().rstrip("#¶ ").strip() == "Exercises" for h in headings):
                defects.append("a chapter without exercises")
        if defects:
            found[path.relative_to(html_dir).as_posix()] = defects
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.page_defects", description=__doc__.split("\n")[0]
    )
    parser.add_argument("html_dir", nargs="?", type=Path, default=SITE / "_build" / "html")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    args = parser.parse_args(argv)
    return run_reported(parser.prog, lambda: _report(args.html_dir), debug=args.debug)


def _report(html_dir: Path) -> int:
    found = site_defects(html_dir)
    for page, defects in found.items():
        for defect in dict.fromkeys(defects):
            print(f"[page_defects] {page}: {defect}")
    print(f"[page_defects] {len(found)} page(s) with defects")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
