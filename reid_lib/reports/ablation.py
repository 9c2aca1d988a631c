"""The ablation tables: each study's rows, their runs, means and spreads, from results files.

Input is a :func:`reid_lib.reports.records.results_table`; metrics are in percent. A run belongs
to a row through its results file's ``run.row`` field.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from reid_lib.reports.intervals import mean_half_width
from reid_lib.reports.records import own_runs
from reid_lib.reports.significance import SPLIT_TEST_TRAIN_RATIO
from reid_lib.studies.rows import equivalent_rows, infeasible_rows, load_rows, studies_on

#: The two metrics the ablation tables show.
SHOWN_METRICS = ("rank1", "mAP")
#: The status of a study row that the profile can build but that has no run yet.
NOT_RUN = "not yet run"
#: The suffix of a table's column that holds the half-width of the 95% interval of the mean.
CI_SUFFIX = "ci95"


def ablation_runs(table: pd.DataFrame) -> pd.DataFrame:
    """The runs of known study rows, each tested on its own training set (no knob turned)."""
    runs = own_runs(table)
    return runs[runs["row"].isin(load_rows())].reset_index(drop=True)


def splits_are_units(splits: Iterable[Any]) -> bool:
    """Whether runs on ``splits`` are summarised per split: when they cover several (a small
    real set, whose runs of one split with different seeds share its test identities; our
    choice); else each run, one per seed, is a unit (the synthetic set, or a set with one split)."""
    return len({split for split in splits if not pd.isna(split)}) > 1


def mean_and_interval(
    runs: pd.DataFrame, test_train_ratio: float | None = None
) -> dict[str, float]:
    """``<metric> mean`` and ``<metric> ci95`` (the half-width of the 95% t interval; NaN under
    two units) of :data:`SHOWN_METRICS` over the runs' units.

    The units are the protocol splits, each the mean of its runs, or the runs themselves
    (:func:`splits_are_units`). Splits that are random resamples of one set overlap, and with
    ``test_train_ratio`` (:data:`~reid_lib.reports.significance.SPLIT_TEST_TRAIN_RATIO`) their
    interval is Nadeau and Bengio's corrected one.

    Raises:
        ValueError: the units are splits but ``test_train_ratio`` is None (as
            :func:`~reid_lib.reports.verdicts.compare_rows`: no interval without the correction).
    """
    metrics = list(SHOWN_METRICS)
    by_split = splits_are_units(runs["split"])
    if by_split and test_train_ratio is None:
        raise ValueError(
            "the runs differ by their random split, so their interval needs the protocol's "
            "test_train_ratio (see SPLIT_TEST_TRAIN_RATIO)"
        )
    units = runs.groupby("split")[metrics].mean() if by_split else runs[metrics]
    line = {}
    ratio = test_train_ratio if by_split else None
    for metric in metrics:
        values = units[metric]
        line[f"{metric} mean"] = values.mean() if len(values) else math.nan
        line[f"{metric} {CI_SUFFIX}"] = mean_half_width(values.tolist(), test_train_ratio=ratio)
    return line


def _runs_of(table: pd.DataFrame, profile: str, dataset: str) -> pd.DataFrame:
    runs = ablation_runs(table)
    return runs[(runs["profile"] == profile) & (runs["dataset"] == dataset)]


def ablation_table(table: pd.DataFrame, profile: str, dataset: str) -> pd.DataFrame:
    """One line per study and row of the studies ``dataset`` runs
    (:func:`~reid_lib.studies.rows.studies_on`): runs, mean of R1 and mAP and the half-width of
    the 95% t interval of each mean (``<metric> ci95``; NaN under two units).

    A row that equals an earlier row under ``profile``
    (:func:`~reid_lib.studies.rows.equivalent_rows`) shows that row's runs and names it under
    ``same as``; a row with no runs says why (the profile cannot build it, or :data:`NOT_RUN`).
    """
    runs = _runs_of(table, profile, dataset)
    same = equivalent_rows(load_rows(), profile)
    infeasible = infeasible_rows(load_rows(), profile)
    lines = []
    for study, rows in studies_on(dataset).items():
        for row in rows:
            mine = runs[runs["row"] == same.get(row, row)]
            line: dict[str, Any] = {"study": study, "row": row, "runs": len(mine)}
            line.update(mean_and_interval(mine, SPLIT_TEST_TRAIN_RATIO.get(dataset)))
            line["same as"] = same.get(row, "")
            line["status"] = "" if len(mine) else infeasible.get(row, NOT_RUN)
            lines.append(line)
    return pd.DataFrame(lines)


def rows_without_runs(lines: pd.DataFrame, profile: str) -> list[str]:
    """Sentences naming the rows of an :func:`ablation_table` (built under ``profile``) that have
    no run: those not yet run, then those the profile cannot build, each with the config's reason.
    """
    status = lines.drop_duplicates("row").set_index("row")["status"]
    sentences: list[str] = []
    unrun = status.index[status == NOT_RUN]
    if len(unrun):
        sentences.append(f"Not yet run: {', '.join(unrun)}.")
    unbuilt = status[~status.isin(["", NOT_RUN])]
    if len(unbuilt):
        reasons = "; ".join(f"{row}: {why}" for row, why in unbuilt.items())
        sentences.append(f"No run, as {profile} cannot build them: {reasons}.")
    return sentences


def ablation_points(table: pd.DataFrame, profile: str, dataset: str) -> pd.DataFrame:
    """One line per study, row, seed and split, with the run's pretraining (long form, for plots
    and paired comparisons); equal rows repeat the runs."""
    runs = _runs_of(table, profile, dataset)
    same = equivalent_rows(load_rows(), profile)
    parts = []
    for study, rows in studies_on(dataset).items():
        for row in rows:
            mine = runs[runs["row"] == same.get(row, row)]
            parts.append(mine.assign(study=study, row=row))
    columns = ["study", "row", "seed", "split", "pretraining", *SHOWN_METRICS]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


def per_dataset_table(table: pd.DataFrame, profile: str, rows: Sequence[str]) -> pd.DataFrame:
    """Mean and runs of R1 and mAP of ``rows`` on every dataset that has runs of them."""
    runs = ablation_runs(table)
    runs = runs[(runs["profile"] == profile) & runs["row"].isin(rows)]
    grouped = runs.groupby(["dataset", "row"])[list(SHOWN_METRICS)]
    summary = grouped.mean().join(grouped.size().rename("runs"))
    return summary.reset_index()
