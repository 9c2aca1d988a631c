"""Tables that compare test sets: cross-dataset transfer and the synthetic knob study.

Input is a :func:`reid_lib.reports.records.results_table`. A line is a transfer when its
``train_set`` differs from its ``dataset`` (the test set), and belongs to the knob study when its
``knob`` is set (``reid_lib.engine.results.knob_label``).
"""

from __future__ import annotations

import math

import pandas as pd

from reid_lib.engine.results import NO_KNOB
from reid_lib.reports.ablation import ablation_runs
from reid_lib.reports.verdicts import METRIC
from reid_lib.studies.rows import load_rows


def transfer_table(table: pd.DataFrame, profile: str, row: str) -> pd.DataFrame:
    """Mean ``METRIC`` of ``row``: one line per training set, one column per test set.

    The diagonal (trained and tested on one dataset) comes from the row's own runs.
    """
    mine = table[(table["profile"] == profile) & (table["row"] == row) & table["knob"].isna()]
    moved = mine[mine["train_set"] != mine["dataset"]]
    if moved.empty:
        return pd.DataFrame()
    both = pd.concat([moved, ablation_runs(mine)], ignore_index=True)
    both = both[both["train_set"].isin(set(moved["train_set"]))]
    matrix = both.pivot_table(index="train_set", columns="dataset", values=METRIC)
    return matrix.rename_axis(index="trained on", columns="tested on")


def knob_table(table: pd.DataFrame, profile: str) -> pd.DataFrame:
    """Mean ``METRIC`` per row (lines) and knob test set (columns, ``none`` first)."""
    knobs = table[(table["profile"] == profile) & table["knob"].notna() & table["row"].notna()]
    if knobs.empty:
        return pd.DataFrame()
    matrix = knobs.pivot_table(index="row", columns="knob", values=METRIC)
    order = [NO_KNOB, *sorted(c for c in matrix.columns if c != NO_KNOB)]
    rows = [r for r in load_rows() if r in matrix.index]
    return matrix.loc[rows, [c for c in order if c in matrix.columns]]


def knob_winners(matrix: pd.DataFrame) -> pd.DataFrame:
    """Per knob: the row that keeps the most of its all-off score, and the baseline's share.

    The share is ``score with the knob / score with every knob off`` of the same row.
    """
    if matrix.empty or NO_KNOB not in matrix.columns:
        return pd.DataFrame(columns=["knob", "most robust row", "its share", "baseline share"])
    share = matrix.div(matrix[NO_KNOB], axis=0)
    lines = []
    for knob in (c for c in matrix.columns if c != NO_KNOB):
        best = share[knob].idxmax()
        lines.append(
            {
                "knob": knob,
                "most robust row": best,
                "its share": share.loc[best, knob],
                "baseline share": share[knob].get("baseline", math.nan),
            }
        )
    return pd.DataFrame(lines)
