"""The figure data of trained study runs (``reid_lib.engine.figure_data``), written next to the
results files so that the published book draws trained models without training them."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from reid_lib.engine.figure_data import figure_data_path, write_figure_data
from reid_lib.studies.sweep import PlannedRun

log = logging.getLogger(__name__)


def write_run_figures(
    runs: Sequence[PlannedRun],
    *,
    profile: str,
    dataset: str,
    runs_dir: Path,
    results_dir: Path,
) -> list[Path]:
    """Write the figure data of each run that has none yet; return the files written.

    Raises:
        FileNotFoundError: a run that has no checkpoint (the message says how to train it).
    """
    written = []
    for run in runs:
        target = figure_data_path(results_dir, profile, dataset, run.name)
        if target.is_file():
            log.info(f"skip {run.name}: {target} exists")
            continue
        checkpoint = run.trained_checkpoint(runs_dir, profile, dataset)
        written.append(write_figure_data(checkpoint.parent, results_dir))
        log.info(f"{run.name}: {written[-1]}")
    return written
