"""The ``python -m tools.sweep`` line of one step: what a message or a table tells a reader to run.

Both the sweep (a run that has to be trained first) and the results tables (the command that
re-runs a file) print such lines; they build them here, so the two never drift apart.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence


def sweep_command(
    command: str,
    *,
    profile: str,
    rows: Sequence[str],
    seeds: Sequence[int],
    splits: Sequence[int] = (),
    dataset: str | None = None,
    extra: Sequence[str] = (),
) -> str:
    """``python -m tools.sweep <command> --profile P [--dataset D] --rows ... --seeds ...
    [--splits ...] [extra ...]``, quoted for a POSIX shell."""
    args = [command, "--profile", profile]
    args += ["--dataset", dataset] if dataset is not None else []
    args += ["--rows", *rows, "--seeds", *map(str, seeds)]
    args += ["--splits", *map(str, splits)] if splits else []
    return shlex.join(["python", "-m", "tools.sweep", *args, *extra])
