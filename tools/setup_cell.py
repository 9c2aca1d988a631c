"""Write every chapter's hidden set-up cell from the one repository setting in ``_config.yml``.

Usage::

    python -m tools.setup_cell [--check]

The cell (each chapter's first code cell after ``parameters``, tagged ``hide-input``) has two
parts. :data:`COLAB` does nothing outside Colab; on Colab it clones the book at
``repository.url`` / ``repository.branch`` (the same setting the site's launch buttons use), so
that the committed results are at hand, installs the library with its ``[colab]`` extra from that
checkout (nothing Colab pins is upgraded), and makes it importable at once. Then it calls
:func:`reid_lib.book.set_up.set_up_chapter` with the chapter's parameters. ``--check`` exits 1
when a chapter's cell differs from what this writes (``make lint`` runs it).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import yaml

from reid_lib.book.notebook_files import read_notebook
from reid_lib.errors import run_reported
from tools.run_book import ROOT, resolve_chapters
from tools.strip_notebooks import serialise

#: The chapters that read no dataset: their set-up prepares none.
NO_DATA = frozenset({"intro", "reproduction"})

#: The tag that folds the cell's source on the site, leaving its printed lines.
HIDDEN = "hide-input"

COLAB = """\
# Set-up. On Colab: clone the book (for its committed results) and install the library with its
# [colab] extra, which upgrades nothing Colab has. Written by `python -m tools.setup_cell`.
import os
import subprocess
import sys

REPOSITORY, REVISION = "{url}", "{branch}"
CHECKOUT = "/content/reid-book"
if "google.colab" in sys.modules:
    if not os.path.isdir(CHECKOUT):
        clone = ["git", "clone", "--depth", "1", "--branch", REVISION, REPOSITORY, CHECKOUT]
        subprocess.run(clone, check=True)
        pip = [sys.executable, "-m", "pip", "install", "-q", "-e", f"{{CHECKOUT}}[colab]"]
        subprocess.run(pip, check=True)
    sys.path.insert(0, CHECKOUT)  # importable now, without restarting the runtime
"""

CHAPTER = """
# Then: resolve the parameters above, seed everything{data_note}.
from reid_lib.book.set_up import set_up_chapter

ch = set_up_chapter(
    "{name}",
    profile=profile,
    dataset=dataset,
    data_root=data_root,
    device=device,
    epochs=epochs,
    seed=seed,
    results_dir=results_dir,
    runs_dir=runs_dir,
    overrides=overrides,{needs_data}
)"""


def colab_part() -> str:
    """The Colab install lines, for the repository and branch of ``_config.yml``."""
    repository = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    return COLAB.format(url=repository["url"], branch=repository["branch"])


def render(chapter: str) -> str:
    """The whole set-up cell of the chapter whose file stem is ``chapter``."""
    reads_data = chapter not in NO_DATA
    return colab_part() + CHAPTER.format(
        name=chapter,
        data_note=", and ready the dataset" if reads_data else "",
        needs_data="" if reads_data else "\n    needs_data=False,",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.setup_cell", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--check", action="store_true", help="only report chapters that differ")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    args = parser.parse_args(argv)
    return run_reported(parser.prog, lambda: _update(args.check), debug=args.debug)


def _update(check: bool) -> int:
    stale: list[Path] = []
    for path in resolve_chapters(None):
        notebook = read_notebook(path)
        cell = [c for c in notebook.cells if c.cell_type == "code"][1]
        wanted = render(path.stem)
        if cell.source == wanted and HIDDEN in cell.metadata.get("tags", []):
            continue
        stale.append(path)
        if not check:
            cell.source = wanted
            tags = cell.metadata.setdefault("tags", [])
            if HIDDEN not in tags:
                tags.append(HIDDEN)
            path.write_text(serialise(notebook))
    for path in stale:
        verb = "differs from _config.yml" if check else "rewritten"
        print(f"[setup_cell] {path.relative_to(ROOT)}: set-up cell {verb}", file=sys.stderr)
    return 1 if stale and check else 0


if __name__ == "__main__":
    sys.exit(main())
