"""Protocol tables: spreads over splits, gaps to the floor with paired intervals, joint training."""

from __future__ import annotations

import pytest

from reid_lib.engine.results import write_results
from reid_lib.reports import (
    DIAGNOSIS_BUDGETS,
    diagnosis_splits,
    diagnosis_summary,
    gap_table,
    joint_diagnosis_table,
    joint_table,
    protocol_table,
    results_table,
    source_table,
)
from reid_lib.reports.protocols import DIAGNOSIS_ARMS
from tests.result_files import result_dict

# VIPeR, five splits: the floor scores mAP 10 + s, the full model 30 + 2s, jointly 33 + 2s.
RUNS = [
    *((f"floor{s}", "colour-histogram", None, s, 0.10 + s / 100) for s in range(5)),
    *((f"full{s}", "full", None, s, 0.30 + 2 * s / 100) for s in range(5)),
    *((f"joint{s}", "full", "joint", s, 0.33 + 2 * s / 100) for s in range(5)),
]


@pytest.fixture
def table(tmp_path):
    for name, row, train_set, split, mAP in RUNS:
        data = result_dict(
            name, profile="cpu", dataset="viper", rank1=mAP, mAP=mAP, row=row, split=split
        )
        data["run"]["train_set"] = train_set or "viper"
        write_results(data, tmp_path)
    return results_table([tmp_path])


def test_protocol_table_is_the_mean_and_interval_over_splits(table):
    lines = protocol_table(table, "cpu", ["colour-histogram", "full"]).set_index("row")
    assert lines.loc["full", "runs"] == 5, "the joint runs are not the set's own runs"
    assert lines.loc["full", "mAP mean"] == pytest.approx(34.0)
    # sd of 0, 2, .., 8 is 3.1622777; t(0.975, 4) = 2.776445; VIPeR's five half/half splits
    # overlap, so the standard error is sd * sqrt(1/5 + 1) (Nadeau and Bengio), not sd / sqrt(5).
    half = 2.776445 * 3.1622777 * (1 / 5 + 1) ** 0.5
    assert lines.loc["full", "mAP ci95"] == pytest.approx(half, rel=1e-5)
    assert lines.loc["colour-histogram", "rank1 mean"] == pytest.approx(12.0)
    assert list(lines.index) == ["colour-histogram", "full"]


def test_seeds_on_one_split_are_averaged_before_the_interval_over_splits(tmp_path):
    # Splits 0-2, two seeds each: mAP (10, 20), (30, 30), (35, 45) -> split means 15, 30, 40.
    values = {0: (0.10, 0.20), 1: (0.30, 0.30), 2: (0.35, 0.45)}
    for split, pair in values.items():
        for seed, mAP in enumerate(pair):
            data = result_dict(
                f"full{split}{seed}",
                profile="cpu",
                dataset="viper",
                rank1=mAP,
                mAP=mAP,
                row="full",
                split=split,
                seed=seed,
            )
            write_results(data, tmp_path)
    (line,) = protocol_table(results_table([tmp_path]), "cpu", ["full"]).to_dict("records")
    assert line["runs"] == 6
    assert line["mAP mean"] == pytest.approx(85 / 3)
    # sd of 15, 30, 40 is 12.583057; t(0.975, 2) = 4.302653; over 3 overlapping splits (not 6
    # runs): the standard error is sd * sqrt(1/3 + 1).
    assert line["mAP ci95"] == pytest.approx(4.302653 * 12.583057 * (4 / 3) ** 0.5, rel=1e-5)


def test_the_gap_to_the_floor_pairs_splits(table):
    gaps = gap_table(table, "cpu", [("full", "colour-histogram")])
    (line,) = gaps.to_dict("records")
    # Paired gaps are 20, 21, 22, 23, 24: mean 22, sd 1.5811, t(0.975, 4) = 2.776445; VIPeR's
    # half/half splits overlap, so the standard error is sd * sqrt(1/5 + 316/316).
    assert line["difference"] == pytest.approx(22.0)
    half = 2.776445 * 1.5811388 * (1 / 5 + 1) ** 0.5
    assert line["95% CI low"] == pytest.approx(22 - half, rel=1e-5)
    assert (line["runs"], line["verdict"]) == ("5 pairs", "agrees")


def test_joint_training_is_compared_with_the_set_alone(table):
    (line,) = joint_table(table, "cpu", ["full", "baseline"]).to_dict("records")
    assert (line["dataset"], line["row"], line["comparison"]) == (
        "viper",
        "full",
        "full joint > full alone",
    )
    assert line["difference"] == pytest.approx(3.0)
    assert line["95% CI low"] == pytest.approx(3.0) == line["95% CI high"], "no spread: exact"


def test_the_joint_diagnosis_compares_each_remedy_on_the_splits_adabn_was_tested_on(tmp_path):
    """GRID, three splits (the joint baseline tested after AdaBN on 0 and 1 only): alone 30 + s,
    jointly 20 + s, jointly after AdaBN 28 + s, jointly with batches from one set 21 + s (after
    AdaBN 29 + s), alone after AdaBN 30 + s; for 24 epochs, jointly 25 + s (after AdaBN 31 + s) and
    alone 33 + s, the latter on split 0 only (mAP, percent); on their training split, the 24-epoch
    run alone 60 and the joint one with a per-set softmax 58 + s. Split 2 is left out of every
    pair, even where both arms have it; the 24-epoch run alone is compared on split 0 alone, not
    with the mean of two."""
    arms = {  # name: (row, train_set, mAP of split 0 per variant)
        "alone": ("baseline", "grid", {"single_query": 30, "single_query_adabn": 30}),
        "joint": ("baseline", "joint", {"single_query": 20, "single_query_adabn": 28}),
        "sets": ("baseline-set-batches", "joint", {"single_query": 21, "single_query_adabn": 29}),
        "long": ("baseline-24-epochs", "joint", {"single_query": 25, "single_query_adabn": 31}),
        "long-alone": ("baseline-24-epochs", "grid", {"single_query": 33, "train_split": 60}),
        "softmax": (
            "baseline-24-epochs-set-softmax",
            "joint",
            {"single_query": 27, "train_split": 58},
        ),
    }
    for name, (row, train_set, values) in arms.items():
        for split in range(1 if name == "long-alone" else 3):
            data = result_dict(
                f"{name}{split}", profile="cpu", dataset="grid", rank1=0.5, row=row, split=split
            )
            data["run"]["train_set"] = train_set
            data["metrics"] = {
                variant: {**data["metrics"]["single_query"], "mAP": (v + split) / 100}
                for variant, v in values.items()
                if not (variant == "single_query_adabn" and name == "joint" and split == 2)
            }
            write_results(data, tmp_path)
    lines = joint_diagnosis_table(results_table([tmp_path], variant=None), "cpu")
    by_comparison = lines.set_index("comparison")
    assert list(by_comparison.index) == [
        "alone > joint",
        "joint + AdaBN > joint",
        "joint, one set per batch > joint",
        "joint, one set per batch + AdaBN > joint",
        "alone + AdaBN > alone",
        "alone > joint, one set per batch + AdaBN",
        "joint, 24 epochs > joint",
        "alone, 24 epochs > alone",
        "alone, 24 epochs > joint, 24 epochs",
        "joint, 24 epochs + AdaBN > joint, 24 epochs",
        "alone, 24 epochs > joint, 24 epochs + AdaBN",
        "joint, 24 epochs, per-set softmax > joint, 24 epochs",
        "alone, 24 epochs > joint, 24 epochs, per-set softmax",
        "alone, 24 epochs, training split > joint, 24 epochs, per-set softmax, training split",
    ]
    expected = [10.0, 8.0, 1.0, 9.0, 0.0, 1.0, 5.0, 3.0, 8.0, 6.0, 2.0, 2.0, 6.0, 2.0]
    assert list(by_comparison["difference"]) == pytest.approx(expected)
    runs = ["2 pairs"] * 7 + ["1 vs 1"] * 2 + ["2 pairs", "1 vs 1", "2 pairs"] + ["1 vs 1"] * 2
    assert list(lines["runs"]) == runs, "where both arms ran"
    assert set(lines["dataset"]) == {"grid"}
    by_split = diagnosis_splits(results_table([tmp_path], variant=None), "cpu")
    assert list(by_split.columns[:4]) == ["dataset", "split", "alone", "alone + AdaBN"]
    assert by_split["split"].tolist() == [0, 1], "the splits AdaBN was tested on"
    assert by_split.loc[1, "joint, one set per batch + AdaBN"] == pytest.approx(30.0)
    budgets = [arm for arms in DIAGNOSIS_BUDGETS.values() for arm in arms]
    assert set(budgets) == set(DIAGNOSIS_ARMS), "each arm in a table"
    longer = diagnosis_splits(
        results_table([tmp_path], variant=None), "cpu", DIAGNOSIS_BUDGETS["24 epochs"]
    )
    assert list(longer.columns) == ["dataset", "split", *DIAGNOSIS_BUDGETS["24 epochs"]]
    assert longer["alone, 24 epochs"].isna().tolist() == [False, True], "run on split 0 alone"
    summary = diagnosis_summary(lines)
    assert summary.startswith(
        "- **grid** (mAP points): alone less joint +10.0 [10.0, 10.0], clear."
    )
    assert "Gained over joint by AdaBN +8.0 [8.0, 8.0], clear;" in summary
    assert "(the control) +0.0 [0.0, 0.0], no clear difference" in summary
    assert "Gained by 24 epochs instead of 12: jointly +5.0 [5.0, 5.0], clear;" in summary
    assert summary.endswith(
        "alone (the control) +3.0 (one split: not judged yet). "
        "Alone less joint at 24 epochs +8.0 (one split: not judged yet). At 24 epochs, gained "
        "over joint by AdaBN +6.0 [6.0, 6.0], clear; alone less joint with both +2.0 (one split: "
        "not judged yet); gained over joint by a per-set softmax +2.0 [2.0, 2.0], clear; alone "
        "less joint with it +6.0 (one split: not judged yet), and on the people they trained on "
        "+2.0 (one split: not judged yet)."
    )
    fit = diagnosis_splits(
        results_table([tmp_path], variant=None),
        "cpu",
        DIAGNOSIS_BUDGETS["24 epochs, training split beside test split"],
    )
    assert fit.loc[0, "alone, 24 epochs, training split"] == pytest.approx(60.0)
    assert fit["joint, 24 epochs, per-set softmax, training split"].tolist() == pytest.approx(
        [58.0, 59.0]
    )
    one_split = diagnosis_summary(
        joint_diagnosis_table(results_table([tmp_path], None)[lambda t: t["split"] == 0], "cpu")
    )
    assert "alone less joint +10.0 (one split: not judged yet)." in one_split
    unrun = diagnosis_summary(lines[~lines["comparison"].str.contains("one set|24")])
    assert (
        "gained over joint by a per-set softmax not run yet; alone less joint with it not run "
        "yet, and on the people they trained on not run yet." in unrun
    )
    assert "by batches of one set not run yet; by both not run yet." in unrun
    assert "Gained by 24 epochs instead of 12: jointly not run yet;" in unrun


def test_the_source_table_sets_our_mean_over_splits_beside_the_reported_number(tmp_path):
    for split, rank1 in enumerate((0.30, 0.34, 0.32)):
        data = result_dict(
            f"lomo{split}",
            profile="cpu",
            dataset="viper",
            rank1=rank1,
            row="lomo-xqda",
            split=split,
        )
        write_results(data, tmp_path / "results")
    reported = tmp_path / "reported.yaml"
    reported.write_text(
        "- {dataset: viper, row: lomo-xqda, source: Them, metrics: {rank1: 40.0}}\n"
        "- {dataset: grid, row: lomo-xqda, source: Them, metrics: {rank1: 16.0}}\n"
    )
    table = results_table([tmp_path / "results"])
    (line,) = source_table(table, "cpu", reported).to_dict("records")  # no grid run: no line
    assert (line["dataset"], line["metric"], line["splits"]) == ("viper", "rank1", 3)
    assert line["ours"] == pytest.approx(32.0) and line["reported"] == 40.0
    assert line["ours - reported"] == pytest.approx(-8.0)
    assert line["ci95"] > 0
    assert source_table(table, "smoke", reported).empty
