"""Open every page of the built site in headless Chromium and check what a reader would see.

Usage::

    python -m tools.check_site [HTML_DIR] [--screenshots DIR]

Checks: every page loads without a JavaScript error, every ``<img>`` has loaded (complete, with
a non-zero natural width), every equation is typeset by MathJax (served from the site itself, so
this holds offline), no block of code or text output is wider than its column at 1280 px (its
right end would be cut off), no table is wider than the page's column, no figure of a cell's
output is shown narrower than the column that ``tools.page_defects`` assumes when it judges figure
text (``reid_lib.book.legibility``), and the evaluation chapter shows its ranked-list figure
(``<figure id="fig-ranked-list">``). Uses Debian's ``chromium`` through Playwright, never a
downloaded browser.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

from reid_lib.book.legibility import COLUMN_PX
from reid_lib.errors import run_reported
from tools.build_site import SITE

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
# Sphinx 7.4 writes the inline script that sphinx-thebe 0.3.1 adds twice into every page; the
# second copy fails to redeclare a constant. Thebe is unused here (launch buttons go to Colab).
KNOWN_UPSTREAM_ERRORS = ("Identifier 'THEBE_JS_URL' has already been declared",)
RANKED_LIST_PAGE = "book/evaluation.html"
RANKED_LIST_FIGURE = "figure#fig-ranked-list img"
BROKEN_IMAGES_JS = """() => Array.from(document.images)
    .filter(img => !(img.complete && img.naturalWidth > 0))
    .map(img => img.getAttribute('src'))"""
#: The equations (Sphinx's ``.math`` elements) that MathJax has not typeset once it is done.
UNTYPESET_MATH_JS = """async () => {
    const equations = Array.from(document.querySelectorAll('.math'));
    if (!equations.length) return 0;
    if (!(window.MathJax && MathJax.startup)) return equations.length;
    await MathJax.startup.promise;
    return equations.filter(el => !el.querySelector('mjx-container')).length;
}"""

#: The code and text-output blocks of the page's content that are wider than they show: a reader
#: at this width would have to find a scroll bar to see their ends.
OVERFLOWING_BLOCKS_JS = """() => Array.from(document.querySelectorAll('main pre'))
    .filter(el => el.offsetParent !== null && el.scrollWidth > el.clientWidth + 1)
    .map(el => (el.innerText || '').trim().split('\\n')[0].slice(0, 60))"""

#: The visible tables that run past the page's column (its article) or past a box that clips
#: them (a cell's output area): their right-hand columns are out of sight until the reader scrolls.
WIDE_TABLES_JS = """() => {
    const column = (document.querySelector('main article') || document.querySelector('main'));
    if (!column) return [];
    const room = t => {  // how far right the table may reach: the column, or a box that clips it
        let right = column.getBoundingClientRect().right;
        for (let box = t.parentElement; box && box !== column; box = box.parentElement) {
            if (getComputedStyle(box).overflowX !== 'visible') {
                right = Math.min(right, box.getBoundingClientRect().right);
            }
        }
        return right - t.getBoundingClientRect().left;
    };
    return Array.from(column.querySelectorAll('table'))
        .filter(t => t.offsetParent !== null && t.getBoundingClientRect().width > room(t) + 1)
        .map(t => `${Math.round(t.getBoundingClientRect().width)} px in ` +
            `${Math.round(room(t))} px: ` +
            (t.innerText || '').trim().split('\\n')[0].replace(/\\s+/g, ' ').slice(0, 60).trim());
}"""

#: The visible figures of cell outputs shown narrower than their own width and the column width
#: (the argument) both: the page shrinks them more than the legibility check allows for.
SHRUNK_FIGURES_JS = """column => Array.from(document.querySelectorAll('.cell_output img'))
    .filter(img => img.offsetParent !== null && img.naturalWidth > 0)
    .filter(img => img.clientWidth + 1 < Math.min(img.naturalWidth, column))
    .map(img => `${img.clientWidth} of ${img.naturalWidth} px`)"""


@dataclass
class PageReport:
    """What was wrong with one page (empty lists: nothing)."""

    page: str
    images: int = 0
    broken_images: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def find_chromium() -> Path:
    """Debian's Chromium binary.

    Raises:
        FileNotFoundError: no ``chromium`` on PATH (install it: ``apt-get install -y chromium``).
    """
    found = shutil.which("chromium")
    if found is None:
        raise FileNotFoundError(
            "no `chromium` on PATH; install it with `apt-get install -y chromium`"
        )
    return Path(found)


def site_pages(html_dir: Path) -> list[Path]:
    """Every HTML page of the site: not the copies of sources or static assets, and not the
    redirect stubs (``index.html`` forwards to the first chapter, which is checked itself).

    Raises:
        FileNotFoundError: ``html_dir`` has no ``index.html`` (no site to check is not a pass).
    """
    if not (html_dir / "index.html").is_file():
        raise FileNotFoundError(f"{html_dir} has no index.html; build the site first (make book)")
    skipped = {"_static", "_sources", "_images"}
    return sorted(
        p
        for p in html_dir.rglob("*.html")
        if not skipped & set(p.relative_to(html_dir).parts)
        and 'http-equiv="refresh"' not in p.read_text(errors="replace").lower()
    )


def record_script_error(report: PageReport, message: str) -> None:
    """Add a script error to ``report`` unless it is a known upstream one."""
    if not any(known in message for known in KNOWN_UPSTREAM_ERRORS):
        report.errors.append(f"script error: {message}")


def check_page(
    browser: Browser, html_dir: Path, path: Path, screenshots: Path | None
) -> PageReport:
    """Open one page in a fresh tab and report what is wrong with it."""
    name = path.relative_to(html_dir).as_posix()
    report = PageReport(name)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("pageerror", lambda exc: record_script_error(report, str(exc)))
    page.goto(path.as_uri(), wait_until="load")
    if not page.title():
        report.errors.append("page has no title")
    report.images = page.evaluate("() => document.images.length")
    report.broken_images = page.evaluate(BROKEN_IMAGES_JS)
    untypeset = page.evaluate(UNTYPESET_MATH_JS)
    if untypeset:
        report.errors.append(f"{untypeset} equation(s) not typeset (MathJax did not load?)")
    for block in page.evaluate(OVERFLOWING_BLOCKS_JS):
        report.errors.append(f"block wider than the column at 1280 px: {block!r}")
    for table in page.evaluate(WIDE_TABLES_JS):
        report.errors.append(f"table wider than the column at 1280 px ({table})")
    for shrunk in page.evaluate(SHRUNK_FIGURES_JS, COLUMN_PX):
        report.errors.append(f"figure shown {shrunk} wide, in a column under {COLUMN_PX} px")
    if name == RANKED_LIST_PAGE:
        figure = page.locator(RANKED_LIST_FIGURE)
        if figure.count() != 1 or not figure.first.is_visible():
            report.errors.append(f"no visible ranked-list figure ({RANKED_LIST_FIGURE})")
    if screenshots is not None:
        screenshots.mkdir(parents=True, exist_ok=True)
        shot = screenshots / (name.replace("/", "_").removesuffix(".html") + ".png")
        page.screenshot(path=str(shot), full_page=True)
    page.close()
    return report


def check_site(html_dir: Path, screenshots: Path | None = None) -> list[PageReport]:
    """Open each page of ``html_dir`` and report what is wrong with it.

    Raises:
        FileNotFoundError: ``html_dir`` has no ``index.html``, or Chromium is missing.
    """
    html_dir = html_dir.resolve()  # a page's address is a file URI, which must be absolute
    pages = site_pages(html_dir)
    reports = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=find_chromium(), args=list(CHROMIUM_FLAGS))
        for path in pages:
            reports.append(check_page(browser, html_dir, path, screenshots))
        browser.close()
    if html_dir / RANKED_LIST_PAGE not in pages:
        reports.append(PageReport(RANKED_LIST_PAGE, errors=["the evaluation page is missing"]))
    return reports


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.check_site", description=__doc__.split("\n")[0]
    )
    parser.add_argument("html_dir", nargs="?", type=Path, default=SITE / "_build" / "html")
    parser.add_argument("--screenshots", type=Path, help="save a full-page PNG of every page here")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    args = parser.parse_args(argv)
    return run_reported(parser.prog, lambda: _report(args), debug=args.debug)


def _report(args: argparse.Namespace) -> int:
    reports = check_site(args.html_dir, args.screenshots)
    bad = [r for r in reports if r.errors or r.broken_images]
    for r in reports:
        status = "FAIL" if r in bad else "ok"
        print(f"[check_site] {status} {r.page}: {r.images} images {r.broken_images} {r.errors}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
