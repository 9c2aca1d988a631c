"""Write every chapter's Colab cell from the one repository setting in ``_config.yml``.

Usage::

    python -m tools.colab_cell [--check]

The cell (each chapter's first code cell after ``parameters``) does nothing outside Colab. On
Colab it clones the book at ``repository.url`` / ``repository.branch`` (the same setting the
site's launch buttons use), so that the committed results are at hand, installs the library with
its ``[colab]`` extra from that checkout (nothing Colab pins is upgraded), and makes it importable
at once. ``--check`` exits 1 when a chapter's cell differs from the setting (``make lint`` runs
it).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import yaml

from reid_lib.book.notebook_files import read_notebook
from reid_lib.errors import run_reported
from tools.run_book import ROOT, resolve_chapters
from tools.strip_notebooks import serialise

CELL = """import os
import subprocess
import sys

# On Colab: clone the book (for its committed results) and install the library with its [colab]
# extra, which upgrades nothing Colab has. Written from _config.yml by `python -m tools.colab_cell`.
REPOSITORY, REVISION = "{url}", "{branch}"
CHECKOUT = "/content/reid-book"
if "google.colab" in sys.modules:
    if not os.path.isdir(CHECKOUT):
        clone = ["git", "clone", "--depth", "1", "--branch", REVISION, REPOSITORY, CHECKOUT]
        subprocess.run(clone, check=True)
        pip = [sys.executable, "-m", "pip", "install", "-q", "-e", f"{{CHECKOUT}}[colab]"]
        subprocess.run(pip, check=True)
    sys.path.insert(0, CHECKOUT)  # importable now, without restarting the runtime"""


def render() -> str:
    """The Colab cell for the repository and branch of ``_config.yml``."""
    repository = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    return CELL.format(url=repository["url"], branch=repository["branch"])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.colab_cell", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--check", action="store_true", help="only report chapters that differ")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    args = parser.parse_args(argv)
    return run_reported(parser.prog, lambda: _update(args.check), debug=args.debug)


def _update(check: bool) -> int:
    cell, stale = render(), []
    for path in resolve_chapters(None):
        notebook = read_notebook(path)
        code = [c for c in notebook.cells if c.cell_type == "code"]
        if code[1].source == cell:
            continue
        stale.append(path)
        if not check:
            code[1].source = cell
            path.write_text(serialise(notebook))
    for path in stale:
        verb = "differs from _config.yml" if check else "rewritten"
        print(f"[colab_cell] {path.relative_to(ROOT)}: Colab cell {verb}", file=sys.stderr)
    return 1 if stale and check else 0


if __name__ == "__main__":
    sys.exit(main())
