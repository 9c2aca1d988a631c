"""The project's folders as absolute paths, the same whichever folder a command starts in.

papermill (``book.run``) starts a chapter's kernel in the repository root, nbval and a reader's
Jupyter start it in ``book/``, and ``python -m book.results`` may be run from anywhere.
"""

from __future__ import annotations

from pathlib import Path


def _root() -> Path:
    """The checkout holding ``book/``; the working folder where ``book`` is pip-installed."""
    checkout = Path(__file__).resolve().parent.parent
    return checkout if (checkout / "_toc.yml").is_file() else Path.cwd()


# The repository checkout (the folder holding _toc.yml, book/, reid_lib/ and results/).
ROOT = _root()
# Everything generated: executed notebooks, runs, sweeps, the site. Never committed.
BUILD = ROOT / "_build"
# Checkpoints, logs and the generated synthetic set of the chapters' runs.
RUNS_DIR = BUILD / "runs"
# The committed results files behind the book's tables (``make results`` writes them).
COMMITTED = ROOT / "results"
