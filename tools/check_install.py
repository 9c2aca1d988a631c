"""Check that an installation can import everything the chapters import (a Colab-like check).

Usage::

    python -m tools.check_install [--python PATH]

Every ``import`` and ``from ... import`` line of every chapter's code cells (the set-up cell
and its standard-library imports included) is run by the given interpreter, one module at a time,
from the repository root. A fresh virtual environment with ``pip install -e ".[colab]"`` (what
the set-up cell installs on Colab) must import them all; the command names each one that fails
and exits 1.
"""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
from collections.abc import Sequence

from reid_lib.book.notebook_files import read_notebook
from reid_lib.errors import run_reported
from tools.run_book import ROOT, resolve_chapters


def chapter_imports() -> dict[str, list[str]]:
    """Each import statement of the chapters' code cells (as source), with the chapters using it."""
    found: dict[str, list[str]] = {}
    for path in resolve_chapters(None):
        for cell in read_notebook(path).cells:
            if cell.cell_type != "code":
                continue
            for node in ast.walk(ast.parse(cell.source)):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    found.setdefault(ast.unparse(node), []).append(path.stem)
    return found


def failing_imports(python: str) -> dict[str, str]:
    """The import statements ``python`` cannot run, with the last line of each error."""
    failures = {}
    for statement in sorted(chapter_imports()):
        run = subprocess.run(
            [python, "-c", statement], cwd=ROOT, capture_output=True, text=True, check=False
        )
        if run.returncode:
            failures[statement] = (run.stderr.strip().splitlines() or ["?"])[-1]
    return failures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.check_install", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--python", default=sys.executable, help="the interpreter to check")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    args = parser.parse_args(argv)

    def run() -> int:
        failures = failing_imports(args.python)
        for statement, error in failures.items():
            print(f"[check_install] {statement}: {error}", file=sys.stderr)
        print(f"[check_install] {len(chapter_imports())} import statements, {len(failures)} failed")
        return 1 if failures else 0

    return run_reported("python -m tools.check_install", run, debug=args.debug)


if __name__ == "__main__":
    sys.exit(main())
