"""Provenance of a run: the code version and the exact dataset split (the machine it ran on is
:mod:`reid_lib.engine.machine`).

Every results file carries this record, so that a number in the book can be traced to the code,
configuration and data that produced it.
"""

from __future__ import annotations

import functools
import hashlib
import subprocess
from pathlib import Path
from typing import Any

from reid_lib.data.records import SPLITS, ReIDDataset

REPO_ROOT = Path(__file__).resolve().parents[2]
#: What :func:`git_state` leaves out of "dirty": the committed results files (a git pathspec).
RESULTS_PATHSPEC = ":(exclude)results"


def git_state(root: Path = REPO_ROOT) -> dict[str, Any]:
    """``{"commit": sha or None, "dirty": bool or None}`` of the checkout holding ``reid_lib``.

    Dirty means tracked files differ from the commit. Untracked files (new results files) and the
    committed results folder do not count: the sweep itself adds variants to committed results
    files (``tools.sweep adapt-bn``), and those are data, not the code that ran. Both are ``None``
    outside a git checkout (e.g. an installed wheel).
    """

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(
            git("status", "--porcelain", "--untracked-files=no", "--", ".", RESULTS_PATHSPEC)
        )
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": dirty}


def code_state(root: Path = REPO_ROOT) -> dict[str, Any]:
    """:func:`git_state` of ``root`` as it was when this process first asked: the code it runs.

    A process runs the modules it imported; a commit or an edit in the checkout after that does
    not change them, so a results file written hours later (a sweep, a long training) records
    the commit the run started from, not the one the checkout has moved to. The trainer asks
    when it is built; every results file, pretraining record and figure-data file asks here.
    """
    return dict(_first_state(root))


@functools.cache
def _first_state(root: Path) -> dict[str, Any]:
    return git_state(root)


def dataset_manifest_sha256(dataset: ReIDDataset) -> str:
    """SHA-256 over the sorted lines ``split, relative path, pid, camid`` of every record.

    It identifies the exact split (which images, with which labels) without reading image bytes;
    two runs on the same protocol split of the same files give the same checksum.
    """
    lines = []
    for split in (*SPLITS, "multi_query"):
        for record in getattr(dataset, split):
            path = Path(record.path)
            rel = path.relative_to(dataset.root) if path.is_relative_to(dataset.root) else path
            lines.append(f"{split}\t{rel.as_posix()}\t{record.pid}\t{record.camid}")
    return hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()
