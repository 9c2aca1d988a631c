"""Build the HTML site from the executed chapters, without executing anything again.

Usage::

    python -m tools.build_site [--executed _build/executed] [--output _build/site]

Jupyter Book reads a source tree; ours is staged in ``_build/stage``: ``_config.yml``,
``_toc.yml``, the book's non-notebook files and the Markdown pages the toc lists (the model
specification in ``docs/``) from the repository, with every chapter taken from its executed copy
(``python -m tools.run_book`` writes them). The build runs with warnings as errors
(``-W --keep-going``); the pages land in ``<output>/_build/html``. The cell papermill injects
with the run's parameters is removed from the pages (the chapter's own ``parameters`` cell,
which says what can be changed, stays).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import nbformat

from reid_lib.book.notebook_files import read_notebook
from reid_lib.book.paths import BUILD, ROOT
from reid_lib.errors import run_reported
from tools.run_book import EXECUTED, TOC, toc_files, toc_notebooks

STAGE = BUILD / "stage"
SITE = BUILD / "site"
STAGED_SUFFIXES = (".md", ".png", ".svg", ".yaml", ".bib")
STATIC = "_static"
#: The tag papermill gives the cell it injects, and the tag Jupyter Book leaves a cell out for.
INJECTED_TAG, REMOVED_TAG = "injected-parameters", "remove-cell"


def stage_notebook(source: Path, dest: Path) -> None:
    """Copy an executed chapter, with papermill's injected-parameters cell tagged for removal."""
    notebook = read_notebook(source)
    for cell in notebook.cells:
        tags = cell.metadata.setdefault("tags", [])
        if INJECTED_TAG in tags and REMOVED_TAG not in tags:
            tags.append(REMOVED_TAG)
    nbformat.write(notebook, dest)


def stage(executed_dir: Path = EXECUTED, stage_dir: Path = STAGE) -> Path:
    """Assemble the source tree Jupyter Book builds, and return it.

    Raises:
        FileNotFoundError: a chapter of the toc has no executed copy.
    """
    missing = [f for f in toc_notebooks() if not (executed_dir / f"{f}.ipynb").is_file()]
    if missing:
        raise FileNotFoundError(
            f"no executed copy of {missing} in {executed_dir}; run `python -m tools.run_book` first"
        )
    shutil.rmtree(stage_dir, ignore_errors=True)
    (stage_dir / "book").mkdir(parents=True)
    for name in ("_config.yml", TOC.name):
        shutil.copy2(ROOT / name, stage_dir / name)
    # The site's own CSS (Jupyter Book links every .css file of _static/ into each page).
    shutil.copytree(ROOT / STATIC, stage_dir / STATIC)
    for path in (ROOT / "book").iterdir():
        if path.suffix in STAGED_SUFFIXES:
            shutil.copy2(path, stage_dir / "book" / path.name)
    for f in toc_files():
        page = ROOT / f"{f}.md"
        (stage_dir / f).parent.mkdir(parents=True, exist_ok=True)
        if page.is_file():
            shutil.copy2(page, stage_dir / f"{f}.md")
        else:
            stage_notebook(executed_dir / f"{f}.ipynb", stage_dir / f"{f}.ipynb")
    return stage_dir


def build(stage_dir: Path = STAGE, output: Path = SITE) -> Path:
    """Run ``jupyter-book build`` on ``stage_dir``; return the folder of the HTML pages.

    Raises:
        subprocess.CalledProcessError: the build failed or warned.
    """
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [str(jupyter_book), "build", str(stage_dir), "--path-output", str(output)]
    shutil.rmtree(output, ignore_errors=True)
    subprocess.run([*command, "-W", "--keep-going"], check=True)
    return output / "_build" / "html"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.build_site", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--executed", type=Path, default=EXECUTED)
    parser.add_argument("--output", type=Path, default=SITE)
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    args = parser.parse_args(argv)

    def run() -> int:
        try:
            html = build(stage(args.executed), args.output)
        except subprocess.CalledProcessError as exc:
            raise RuntimeError(
                f"jupyter-book build failed (exit {exc.returncode}); its own messages are above"
            ) from None
        print(f"[tools.build_site] {html / 'index.html'}")
        return 0

    return run_reported("python -m tools.build_site", run, debug=args.debug)


if __name__ == "__main__":
    sys.exit(main())
