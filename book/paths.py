"""The project's folders, as absolute paths, so that a chapter finds them from any working folder.

papermill (``book.run``) starts kernels in the repository root; nbval and a reader's Jupyter start
them in ``book/``. Relative paths would point at different folders in the two cases.
"""

from __future__ import annotations

from pathlib import Path

# The repository checkout (the folder holding _toc.yml, book/, reid_lib/ and results/).
ROOT = Path(__file__).resolve().parent.parent
# Everything generated: executed notebooks, runs, sweeps, the site. Never committed.
BUILD = ROOT / "_build"
# Checkpoints, logs and the generated synthetic set of the chapters' runs.
RUNS_DIR = BUILD / "runs"
# The committed results files behind the book's tables (``make results`` writes them).
COMMITTED = ROOT / "results"
