"""Each dataset under its protocol: means and spreads over splits and seeds, what learning buys
over the training-free floor, what joint training buys over training on one set, and why.

Input is a :func:`reid_lib.reports.records.results_table` (metrics in percent). A small real set
is reported over its protocol splits (``dataset.split``), the synthetic set over its seeds; both
are runs of one row, and comparisons pair two rows' runs by seed and split
(:func:`reid_lib.reports.verdicts.compare_rows`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from reid_lib.reports.ablation import CI_SUFFIX, SHOWN_METRICS, ablation_runs, mean_and_interval
from reid_lib.reports.display import CI_HIGH, CI_LOW, DIFFERENCE
from reid_lib.reports.records import shown
from reid_lib.reports.significance import SPLIT_TEST_TRAIN_RATIO
from reid_lib.reports.verdicts import (
    AGREES,
    DISAGREES,
    HOLM_VERDICT,
    MDE,
    METRIC,
    UNCLEAR,
    compare_rows,
    comparison_name,
    with_holm,
)
from reid_lib.strict_yaml import read_yaml
from reid_lib.studies.rows import FIT_MODELS, LONGER_ROW, SET_BATCHES_ROW, SET_SOFTMAX_ROW

#: The training-free floor's study row.
FLOOR_ROW = "colour-histogram"
#: The study row of LOMO + XQDA, the hand-crafted baseline (Liao et al., CVPR 2015).
LOMO_XQDA_ROW = "lomo-xqda"
#: The ``train_set`` of the runs trained jointly on the small sets.
JOINT = "joint"
#: What the sources of our comparison rows report (dataset, row, source, metrics in percent).
SOURCE_REPORTED = Path(__file__).resolve().parent / "source_reported.yaml"


def protocol_table(table: pd.DataFrame, profile: str, rows: Sequence[str]) -> pd.DataFrame:
    """One line per dataset and row of ``rows``: runs, mean of R1 and mAP and the half-width
    of the 95% t interval of each mean (``<metric> ci95``; NaN for one unit).

    The units are the protocol splits of a real set and the seeds of the synthetic set
    (:func:`~reid_lib.reports.ablation.mean_and_interval`); ``runs`` counts the runs.
    """
    runs = ablation_runs(table)
    runs = runs[(runs["profile"] == profile) & runs["row"].isin(rows)]
    columns = [
        "dataset",
        "row",
        "runs",
        *(f"{m} {s}" for m in SHOWN_METRICS for s in ("mean", CI_SUFFIX)),
    ]
    order = {row: i for i, row in enumerate(rows)}
    lines = [
        {
            "dataset": dataset,
            "row": row,
            "runs": len(mine),
            **mean_and_interval(mine, SPLIT_TEST_TRAIN_RATIO.get(dataset)),
        }
        for (dataset, row), mine in sorted(
            runs.groupby(["dataset", "row"]), key=lambda item: (item[0][0], order[item[0][1]])
        )
    ]
    return pd.DataFrame(lines, columns=columns)


def source_table(
    table: pd.DataFrame, profile: str, reported: Path = SOURCE_REPORTED
) -> pd.DataFrame:
    """One line per metric that a source reports (:data:`SOURCE_REPORTED`) and ``profile`` has
    runs of: the source's number, our mean over splits with its 95% interval's half-width (as
    :func:`protocol_table`), and ours less theirs."""
    runs = ablation_runs(table)
    lines = []
    for entry in read_yaml(reported):
        dataset, row = entry["dataset"], entry["row"]
        mine = runs[
            (runs["profile"] == profile) & (runs["dataset"] == dataset) & (runs["row"] == row)
        ]
        if mine.empty:
            continue
        ours = mean_and_interval(mine, SPLIT_TEST_TRAIN_RATIO.get(dataset))
        for metric, theirs in entry["metrics"].items():
            lines.append(
                {
                    "dataset": dataset,
                    "source": entry["source"],
                    "metric": metric,
                    "reported": float(theirs),
                    "ours": ours[f"{metric} mean"],
                    CI_SUFFIX: ours[f"{metric} {CI_SUFFIX}"],
                    "splits": mine["split"].nunique(),
                    "ours - reported": ours[f"{metric} mean"] - float(theirs),
                }
            )
    return pd.DataFrame(lines)


def _points(runs: pd.DataFrame) -> pd.DataFrame:
    return runs[["row", "seed", "split", "pretraining", METRIC]]


def gap_table(table: pd.DataFrame, profile: str, pairs: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """One line per dataset and ``(better, worse)`` row pair: both means, the difference with its
    95% confidence interval (paired by seed and split), the raw verdict, and the verdict with
    Holm's correction over the table's lines, with the minimum detectable effect
    (:func:`~reid_lib.reports.verdicts.with_holm`)."""
    runs = ablation_runs(table)
    runs = runs[runs["profile"] == profile]
    lines = [
        {
            "dataset": dataset,
            **compare_rows(_points(mine), better, worse, SPLIT_TEST_TRAIN_RATIO.get(dataset)),
        }
        for dataset, mine in runs.groupby("dataset")
        for better, worse in pairs
        if {better, worse} <= set(mine["row"])
    ]
    return with_holm(pd.DataFrame(lines))


def joint_table(table: pd.DataFrame, profile: str, rows: Sequence[str]) -> pd.DataFrame:
    """One line per dataset and row: the row trained on the set alone against trained jointly on
    the small sets (``train_set == "joint"``), both tested under the set's protocol, paired by
    split, with Holm's correction over the table's lines
    (:func:`~reid_lib.reports.verdicts.with_holm`)."""
    mine = table[(table["profile"] == profile) & table["row"].isin(rows) & table["knob"].isna()]
    alone = ablation_runs(mine).assign(row=lambda f: f["row"] + " alone")
    joint = mine[mine["train_set"] == JOINT].assign(row=lambda f: f["row"] + " joint")
    lines = []
    for dataset in sorted(set(joint["dataset"])):
        points = pd.concat([alone[alone["dataset"] == dataset], joint[joint["dataset"] == dataset]])
        for row in rows:
            if {f"{row} joint", f"{row} alone"} <= set(points["row"]):
                ratio = SPLIT_TEST_TRAIN_RATIO.get(dataset)
                comparison = compare_rows(_points(points), f"{row} joint", f"{row} alone", ratio)
                lines.append({"dataset": dataset, "row": row, **comparison})
    return with_holm(pd.DataFrame(lines))


#: The joint-training diagnosis: each way of training and testing the baseline, by its
#: ``(row, joint?, variant)``. An arm on its "training split" ranks the people the run trained on
#: among themselves (``train_split``): how well it fits them, where the others test new people.
DIAGNOSIS_ARMS = {
    "alone": ("baseline", False, "single_query"),
    "alone + AdaBN": ("baseline", False, "single_query_adabn"),
    "joint": ("baseline", True, "single_query"),
    "joint + AdaBN": ("baseline", True, "single_query_adabn"),
    "joint, one set per batch": (SET_BATCHES_ROW, True, "single_query"),
    "joint, one set per batch + AdaBN": (SET_BATCHES_ROW, True, "single_query_adabn"),
    "alone, 24 epochs": (LONGER_ROW, False, "single_query"),
    "joint, 24 epochs": (LONGER_ROW, True, "single_query"),
    "joint, 24 epochs + AdaBN": (LONGER_ROW, True, "single_query_adabn"),
    "joint, 24 epochs, per-set softmax": (SET_SOFTMAX_ROW, True, "single_query"),
    "alone, 24 epochs, training split": (LONGER_ROW, False, "train_split"),
    "joint, 24 epochs, per-set softmax, training split": (
        SET_SOFTMAX_ROW,
        True,
        "train_split",
    ),
}
#: The arms by training budget (the 24-epoch rows' arms tested on new people, and the others),
#: and the fit (the two arms on their training split, beside the same runs on their test split):
#: the split-by-split view shows one table for each (one table of every arm is wider than the
#: book's column).
_LONGER_ROWS = (LONGER_ROW, SET_SOFTMAX_ROW)
DIAGNOSIS_BUDGETS = {
    "12 epochs": tuple(arm for arm, (row, *_) in DIAGNOSIS_ARMS.items() if row not in _LONGER_ROWS),
    "24 epochs": tuple(
        arm
        for arm, (row, _, variant) in DIAGNOSIS_ARMS.items()
        if row in _LONGER_ROWS and variant != "train_split"
    ),
    "24 epochs, training split beside test split": tuple(
        arm for arm, (row, joint, _) in DIAGNOSIS_ARMS.items() if (row, joint) in FIT_MODELS
    ),
}
#: Its comparisons, ``(claimed higher, lower)``: the loss to explain; what each remedy, and the
#: two together, recover; AdaBN on a model trained alone (the control: what AdaBN does without a
#: mixture to undo); the loss that the two remedies together leave; what twice the epochs recover
#: jointly, and give a set trained alone (its control); the loss left at 24 epochs; what AdaBN
#: recovers at 24 epochs; the loss that twice the epochs and AdaBN together leave; what a per-set
#: softmax recovers at 24 epochs; the loss it leaves; and the same two models on the people they
#: trained on (a loss there is a worse fit; one on new people alone, a worse generalisation).
DIAGNOSIS_PAIRS = (
    ("alone", "joint"),
    ("joint + AdaBN", "joint"),
    ("joint, one set per batch", "joint"),
    ("joint, one set per batch + AdaBN", "joint"),
    ("alone + AdaBN", "alone"),
    ("alone", "joint, one set per batch + AdaBN"),
    ("joint, 24 epochs", "joint"),
    ("alone, 24 epochs", "alone"),
    ("alone, 24 epochs", "joint, 24 epochs"),
    ("joint, 24 epochs + AdaBN", "joint, 24 epochs"),
    ("alone, 24 epochs", "joint, 24 epochs + AdaBN"),
    ("joint, 24 epochs, per-set softmax", "joint, 24 epochs"),
    ("alone, 24 epochs", "joint, 24 epochs, per-set softmax"),
    (
        "alone, 24 epochs, training split",
        "joint, 24 epochs, per-set softmax, training split",
    ),
)


def _diagnosis_points(table: pd.DataFrame, profile: str) -> pd.DataFrame:
    """The runs of each arm of :data:`DIAGNOSIS_ARMS` (``row`` set to the arm's name), on the
    splits where the joint baseline was tested after AdaBN."""
    mine = table[(table["profile"] == profile) & table["knob"].isna()]
    arms = []
    for arm, (row, joint, variant) in DIAGNOSIS_ARMS.items():
        trained = mine["train_set"] == JOINT if joint else mine["train_set"] == mine["dataset"]
        picked = mine[trained & (mine["row"] == row) & (mine["variant"] == variant)]
        arms.append(picked.assign(row=arm))
    points = pd.concat(arms)
    adapted = points[points["row"] == "joint + AdaBN"].set_index(["dataset", "split"]).index
    return points[points.set_index(["dataset", "split"]).index.isin(adapted)]


def diagnosis_splits(
    table: pd.DataFrame, profile: str, arms: Sequence[str] = tuple(DIAGNOSIS_ARMS)
) -> pd.DataFrame:
    """The joint-training diagnosis split by split: one line per dataset and split, one column
    per arm of ``arms`` that has run (of :data:`DIAGNOSIS_ARMS`; its :data:`METRIC`, percent), so
    that a reader sees whether a difference keeps its sign from split to split."""
    points = _diagnosis_points(table, profile)
    points = points[points["row"].isin(arms)]
    if points.empty:
        return pd.DataFrame()
    wide = points.pivot_table(index=["dataset", "split"], columns="row", values=METRIC)
    return wide[[arm for arm in arms if arm in wide]].reset_index().rename_axis(None, axis=1)


def joint_diagnosis_table(table: pd.DataFrame, profile: str) -> pd.DataFrame:
    """One line per dataset and pair of :data:`DIAGNOSIS_PAIRS`: the baseline trained on the set
    alone or jointly, tested as trained or after AdaBN (``single_query_adabn``), trained
    jointly with each batch from one set, and trained for 24 epochs instead of 12, jointly (also
    after AdaBN, and with a per-set softmax) and alone, the last two also on their training split
    (``train_split``); paired by split, with Holm's correction
    over the table's lines (:func:`~reid_lib.reports.verdicts.with_holm`).

    ``table`` is a :func:`~reid_lib.reports.records.results_table` of every variant
    (``variant=None``). Only the splits where the joint baseline was tested after AdaBN count,
    and of those, each pair is compared on the splits both its arms have run (a pair with none
    is left out): an arm that has reached fewer splits is never set against the other arm's
    mean over more.
    """
    points = _diagnosis_points(table, profile)
    lines = []
    for dataset, runs in points.groupby("dataset"):
        ratio = SPLIT_TEST_TRAIN_RATIO.get(dataset)
        for better, worse in DIAGNOSIS_PAIRS:
            splits = [set(runs.loc[runs["row"] == arm, "split"]) for arm in (better, worse)]
            both = runs[
                runs["row"].isin((better, worse)) & runs["split"].isin(set.intersection(*splits))
            ]
            if not both.empty:
                lines.append(
                    {"dataset": dataset, **compare_rows(_points(both), better, worse, ratio)}
                )
    return with_holm(pd.DataFrame(lines))


def diagnosis_summary(lines: pd.DataFrame) -> str:
    """One Markdown line per dataset of a :func:`joint_diagnosis_table`: each comparison's signed
    difference (the first arm less the second, :data:`METRIC` points) with its 95% interval, and
    whether it is clear after Holm's correction (else the smallest effect it could have
    detected)."""
    by_key = {(line["dataset"], line["comparison"]): line for line in lines.to_dict("records")}

    def said(dataset: str, pair: tuple[str, str]) -> str:
        line = by_key.get((dataset, comparison_name(*pair)))
        if line is None:
            return "not run yet"
        if line[HOLM_VERDICT] not in (AGREES, DISAGREES, UNCLEAR):
            return f"{line[DIFFERENCE]:+.1f} (one split: not judged yet)"
        amount = f"{line[DIFFERENCE]:+.1f} [{shown(line[CI_LOW])}, {shown(line[CI_HIGH])}]"
        if line[HOLM_VERDICT] == UNCLEAR:
            return f"{amount}, no clear difference (none larger than {shown(line[MDE])} detectable)"
        return f"{amount}, clear"

    (
        loss,
        adabn,
        batches,
        both,
        control,
        left,
        longer,
        longer_alone,
        longer_left,
        longer_adabn,
        longer_both_left,
        softmax,
        softmax_left,
        fit_left,
    ) = DIAGNOSIS_PAIRS
    return "\n".join(
        f"- **{dataset}** ({METRIC} points): alone less joint {said(dataset, loss)}. Gained over "
        f"joint by AdaBN {said(dataset, adabn)}; by batches of one set {said(dataset, batches)}; "
        f"by both {said(dataset, both)}. Alone less both {said(dataset, left)}. AdaBN on the "
        f"model trained alone (the control) {said(dataset, control)}. Gained by 24 epochs instead "
        f"of 12: jointly {said(dataset, longer)}; alone (the control) "
        f"{said(dataset, longer_alone)}. Alone less joint at 24 epochs "
        f"{said(dataset, longer_left)}. At 24 epochs, gained over joint by AdaBN "
        f"{said(dataset, longer_adabn)}; alone less joint with both "
        f"{said(dataset, longer_both_left)}; gained over joint by a per-set softmax "
        f"{said(dataset, softmax)}; alone less joint with it {said(dataset, softmax_left)}, and "
        f"on the people they trained on {said(dataset, fit_left)}."
        for dataset in sorted(set(lines["dataset"]))
    )
