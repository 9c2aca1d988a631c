"""The project's folders as absolute paths, the same whichever folder a command starts in.

papermill (``tools.run_book``) starts a chapter's kernel in the repository root, nbval and a
reader's Jupyter start it in ``book/``, and ``python -m tools.sweep`` may be run from anywhere.
"""

from __future__ import annotations

from pathlib import Path

from reid_lib.engine.provenance import git_state
from reid_lib.studies.profiles import get_profile


def _root() -> Path:
    """The checkout holding ``_toc.yml``; the working folder where the library is pip-installed."""
    checkout = Path(__file__).resolve().parents[2]
    return checkout if (checkout / "_toc.yml").is_file() else Path.cwd()


# The repository checkout (the folder holding _toc.yml, book/, reid_lib/ and results/).
ROOT = _root()
# Everything generated: executed notebooks, runs, sweeps, the site. Never committed.
BUILD = ROOT / "_build"
# Checkpoints, logs and the generated synthetic set of the chapters' runs.
RUNS_DIR = BUILD / "runs"
# The committed results files behind the book's tables (``make results`` writes them).
COMMITTED = ROOT / "results"
# The committed GPU measurements (``python -m benchmarks.gpu_check --out benchmarks/results``).
GPU_CHECKS = ROOT / "benchmarks" / "results"
# Set by the batch runners (tools.run_book, make nbval): no live frontend, so the chapters leave
# their widgets out. Named here, not in ``chapter``, so that the runners load no torch.
BATCH_ENV = "REID_BOOK_BATCH"


def shown_path(path: str | Path) -> str:
    """``path`` as a page shows it: relative to the repository root when it lies under it (no
    build machine's absolute path reaches the site), else with the home folder written ``~``."""
    path = Path(path).resolve()
    if path.is_relative_to(ROOT):
        return path.relative_to(ROOT).as_posix()
    home = Path.home()
    return f"~/{path.relative_to(home).as_posix()}" if path.is_relative_to(home) else str(path)


def chapter_sweep_dir(profile: str) -> Path:
    """Where a chapter trains the study runs it lacks.

    Under a profile that trains in the build (``smoke``): ``_build/sweep/<commit>[-dirty]``, never
    committed, shared by the chapters and by every build of one commit (delete it, or ``make
    clean``, to retrain after uncommitted changes). Otherwise :data:`COMMITTED`, the folder
    ``make results`` fills.
    """
    if not get_profile(profile).trains_in_build:
        return COMMITTED
    git = git_state()
    name = (git["commit"] or "unknown")[:10] + ("-dirty" if git["dirty"] else "")
    return BUILD / "sweep" / name
