"""The figure data of trained study runs (``reid_lib.engine.figure_data``), written next to the
results files so that the published book draws trained models without training them."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from reid_lib.engine.checkpoint import LAST
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
        run_dir = Path(runs_dir) / profile / dataset / run.name
        if not (run_dir / LAST).is_file():
            split = f" --splits {run.split}" if run.split is not None else ""
            raise FileNotFoundError(
                f"{run_dir / LAST}: no trained run {run.name!r}; train it first with "
                f"python -m tools.sweep run --profile {profile} --dataset {dataset} "
                f"--rows {run.row} --seeds {run.seed}{split}"
            )
        written.append(write_figure_data(run_dir, results_dir))
        log.info(f"{run.name}: {written[-1]}")
    return written
