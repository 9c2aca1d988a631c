"""What a sweep still costs: the wall time of its runs, estimated from the runs already made.

Each results file records the wall time of its run (``provenance.wall_time_s``: training and
evaluation). A planned run is estimated by the median of the files of the same profile, training set
(a set, or ``joint`` for the runs trained on several; each joint run's files, one per set it was
tested on, count once each) and row under the results folder (archived ones included: a row costs
what it cost, whichever backbone it started from), else by the median of that profile and dataset,
else not at all. The estimate holds for a machine like the one that made those files; the device is
in each file.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from pathlib import Path


def run_seconds(results_root: Path, profile: str) -> dict[tuple[str, str | None], float]:
    """Median wall time in seconds by ``(training set, row)``, and by ``(training set, None)``
    over every row of the set, of the results files of ``profile`` anywhere under
    ``results_root``: the runs tested on their own training set, and the joint runs.

    Files that are not results files (no ``run`` or ``provenance``) are passed over.
    """
    times: dict[tuple[str, str | None], list[float]] = defaultdict(list)
    for path in sorted(Path(results_root).rglob("*.json")):
        try:
            data = json.loads(path.read_text())
            run, seconds = data["run"], float(data["provenance"]["wall_time_s"])
            dataset = data["dataset"]["name"]
        except (ValueError, KeyError, TypeError):
            continue
        trained_on = run.get("train_set")
        if run.get("profile") != profile or trained_on not in (dataset, "joint") or run.get("knob"):
            continue
        times[trained_on, run.get("row")].append(seconds)
        times[trained_on, None].append(seconds)
    return {key: statistics.median(values) for key, values in times.items()}


def estimate_seconds(
    timings: dict[tuple[str, str | None], float], dataset: str, row: str
) -> float | None:
    """The estimated wall time of a run of ``row`` on ``dataset`` (:func:`run_seconds`): the
    row's median there, else the dataset's, else None."""
    return timings.get((dataset, row), timings.get((dataset, None)))
