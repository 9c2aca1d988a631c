"""Keep committed chapters free of outputs, except the small cells that nbval checks.

Usage::

    python -m tools.strip_notebooks [--check] [NOTEBOOK ...]  (default: every book/*.ipynb)
    python -m tools.strip_notebooks --outputs-from _build/executed/book  (refresh checked outputs)

A cell tagged ``nbval-check-output`` keeps its outputs and execution count (``pytest
--nbval-lax`` compares the outputs of reference cells that ran); every other cell loses both.
Notebook metadata keeps only the kernel spec, the language name and the book's own ``reid_book``
key; cell metadata keeps only tags and ``mystnb`` (figure names and captions).

With ``--check`` nothing is written and the exit status is 1 when a notebook would change.
``--outputs-from DIR`` first copies the outputs of the checked cells from the executed copies in
``DIR`` (``python -m tools.run_book --profile smoke`` writes them), matching cells by their source.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import nbformat

from reid_lib.book.notebook_files import read_notebook
from reid_lib.errors import run_reported

CHECKED_TAG = "nbval-check-output"
# Tags (papermill's ``parameters``, nbval's and the site's) and myst-nb's figure captions.
CELL_METADATA = ("tags", "mystnb")
BOOK_DIR = Path(__file__).resolve().parent


def strip_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` with outputs and run metadata removed (see the module docstring)."""
    nb = nbformat.from_dict(nb)
    meta = nb.metadata
    kept = {key: meta[key] for key in ("kernelspec", "reid_book") if key in meta}
    if "language_info" in meta:
        kept["language_info"] = {"name": meta["language_info"].get("name", "python")}
    nb.metadata = nbformat.from_dict(kept)
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        cell.metadata = nbformat.from_dict(
            {key: cell.metadata[key] for key in CELL_METADATA if cell.metadata.get(key)}
        )
        cell.pop("id", None)
        if cell.cell_type != "code":
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
            continue
        if CHECKED_TAG not in tags or not cell.outputs:
            # nbval compares only cells that ran in the reference (an execution count is set)
            cell.execution_count = None
            cell.outputs = []
    nb.nbformat_minor = 4
    return nb


def copy_checked_outputs(
    nb: nbformat.NotebookNode, executed: nbformat.NotebookNode
) -> nbformat.NotebookNode:
    """``nb`` with each checked cell's outputs taken from the cell of ``executed`` with its source.

    Raises:
        ValueError: a checked cell has no cell with the same source in ``executed``.
    """
    nb = nbformat.from_dict(nb)
    outputs = {
        c.source: (c.get("outputs", []), c.get("execution_count"))
        for c in executed.cells
        if c.cell_type == "code"
    }
    for cell in nb.cells:
        if CHECKED_TAG in cell.metadata.get("tags", []):
            if cell.source not in outputs:
                raise ValueError(
                    f"no executed cell with the source of checked cell {cell.source!r}"
                )
            cell.outputs, cell.execution_count = outputs[cell.source]
    return nb


def serialise(nb: nbformat.NotebookNode) -> str:
    """The canonical text of ``nb`` as committed."""
    return nbformat.writes(nb) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.strip_notebooks", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--check", action="store_true", help="report, do not write")
    parser.add_argument("--outputs-from", type=Path, help="folder of executed copies")
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    args = parser.parse_args(argv)
    return run_reported(parser.prog, lambda: _strip(args), debug=args.debug)


def _strip(args: argparse.Namespace) -> int:
    dirty = []
    for path in args.notebooks or sorted(BOOK_DIR.glob("*.ipynb")):
        text = path.read_text()
        nb = read_notebook(path)
        if args.outputs_from is not None:
            executed = read_notebook(args.outputs_from / path.name)
            nb = copy_checked_outputs(nb, executed)
        clean = serialise(strip_notebook(nb))
        if clean != text:
            dirty.append(path)
            if not args.check:
                path.write_text(clean)
    for path in dirty:
        verb = "carries outputs or run metadata" if args.check else "stripped"
        print(f"{path}: {verb}", file=sys.stderr if args.check else sys.stdout)
    if args.check and dirty:
        print("run `python -m tools.strip_notebooks` to strip them", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
