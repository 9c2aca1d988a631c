"""Presentation defects a reader would see on a built page, found in its HTML (no browser).

Usage::

    python -m tools.page_defects [HTML_DIR]

Each check names what it found:

- a glued value shown inside quotes (a string pasted with ``{glue}`` instead of ``{glue:text}``);
- ``NaN`` (or ``nan``, ``None``, ``<NA>``) in a table cell;
- a number with more than three decimals in a table cell;
- a ``PosixPath(...)`` in a cell's output;
- papermill's injected-parameters cell left visible.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from bs4 import BeautifulSoup

from reid_lib.errors import run_reported
from tools.build_site import INJECTED_TAG, SITE
from tools.check_site import site_pages

MISSING_VALUES = frozenset({"nan", "NaN", "None", "<NA>", "NaT"})
LONG_DECIMALS = re.compile(r"^[-+]?\d+\.\d{4,}$")
QUOTES = ("'", '"', "‘", "’", "“", "”")


def presentation_defects(html: str) -> list[str]:
    """Every defect of one page, each as a short message quoting what was found."""
    soup = BeautifulSoup(html, "html.parser")
    defects = []
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
    if soup.select(f".tag_{INJECTED_TAG}"):
        defects.append("papermill's injected-parameters cell is visible")
    return defects


def site_defects(html_dir: Path) -> dict[str, list[str]]:
    """:func:`presentation_defects` of every page of the site that has any, by page."""
    found = {}
    for path in site_pages(html_dir):
        defects = presentation_defects(path.read_text(errors="replace"))
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
