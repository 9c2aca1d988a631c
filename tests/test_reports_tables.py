"""The book's tables from results files: ablation rows, verdicts, transfer, knobs, benchmarks."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
from scipy import stats

from reid_lib.engine.results import write_results
from reid_lib.reports import (
    NO_RUNS,
    NOT_REPRODUCED,
    NOT_RUN,
    Difference,
    ablation_points,
    ablation_table,
    chance_table,
    compare_rows,
    difference,
    finding_verdicts,
    findings_table,
    knob_table,
    knob_winners,
    large_benchmark_table,
    load_findings,
    paper_claims,
    per_dataset_table,
    results_table,
    rows_without_runs,
    transfer_table,
    verdict,
    verdict_summary,
)
from reid_lib.studies.rows import closed_form_rows, load_studies, studies_on
from tests.result_files import result_dict


def write(
    root: Path,
    row: str,
    dataset: str,
    mAP: float,
    *,
    profile: str = "cpu",
    seed: int = 0,
    train: str | None = None,
    knob: str | None = None,
) -> Path:
    """Write one results file; its name is a counter, so no table can read anything from it."""
    name = f"file{sum(1 for _ in root.rglob('*.json')) if root.exists() else 0}"
    data = result_dict(
        name,
        profile=profile,
        dataset=dataset,
        rank1=0.5,
        mAP=mAP,
        seed=seed,
        row=row,
        train_set=train,
        knob=knob,
    )
    return write_results(data, root)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "results"
    for seed, (base, full) in enumerate([(0.20, 0.40), (0.22, 0.42), (0.21, 0.41)]):
        write(root, "baseline", "synthetic", base, seed=seed)
        write(root, "full", "synthetic", full, seed=seed)
        write(root, "nl", "synthetic", 0.30 + 0.05 * (-1) ** seed, seed=seed)
    write(root, "msg", "synthetic", 0.5)
    write(root, "full", "viper", 0.10)
    write(root, "full", "viper", 0.05, train="synthetic")
    write(root, "full", "synthetic", 0.15, train="viper")
    write(root, "full", "synthetic", 0.80, knob="none")
    write(root, "full", "synthetic", 0.40, knob="occlusion")
    write(root, "baseline", "synthetic", 0.60, knob="none")
    write(root, "baseline", "synthetic", 0.15, knob="occlusion")
    return root


def all_tables(root: Path) -> list[pd.DataFrame]:
    """Every table the book builds from the results files under ``root``."""
    table = results_table([root])
    knobs = knob_table(table, "cpu")
    return [
        ablation_table(table, "cpu", "synthetic"),
        ablation_points(table, "cpu", "synthetic"),
        finding_verdicts(table, "cpu", "synthetic"),
        per_dataset_table(table, "cpu", ["baseline", "full"]),
        transfer_table(table, "cpu", "full"),
        knobs,
        knob_winners(knobs),
        large_benchmark_table([root], paper_claims(root)),
    ]


def test_renaming_results_files_and_runs_leaves_every_table_unchanged(root, tmp_path):
    before = all_tables(root)
    moved = tmp_path / "moved"
    for i, path in enumerate(sorted(root.rglob("*.json"))):
        data = json.loads(path.read_text())
        data["run"]["name"] = f"renamed-{i}-seed99"
        target = moved / path.parent.relative_to(root) / f"knob-x-from-y-{i}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(data))
    after = all_tables(moved)
    assert not before[0].empty and not before[4].empty and not before[5].empty
    for old, new in zip(before, after, strict=True):
        pd.testing.assert_frame_equal(old, new)


def test_a_copied_results_file_is_refused_rather_than_counted_as_another_run(root, tmp_path):
    """A copy under another name would be a fourth seed in the ablation table (a narrower
    interval) and in the per-dataset table; every table refuses it, naming both files."""
    original = next(p for p in sorted(root.rglob("*.json")) if "baseline" in p.read_text())
    copy = original.with_name("copy-of-a-run.json")
    copy.write_text(original.read_text())
    first, second = sorted([original, copy])  # read in path order
    with pytest.raises(ValueError, match=rf"results files {first} and {second} are one run"):
        results_table([root])
    copy.unlink()
    elsewhere = tmp_path / "elsewhere" / copy.relative_to(root)
    elsewhere.parent.mkdir(parents=True)
    elsewhere.write_text(original.read_text())
    with pytest.raises(ValueError, match=r"are one run \(profile=cpu, dataset=synthetic"):
        results_table([root, tmp_path / "elsewhere"])


def test_a_results_file_of_a_row_no_study_has_is_refused(root):
    stray = write(root, "fulll", "synthetic", 0.5, seed=7)
    with pytest.raises(ValueError, match=rf"{stray}: row 'fulll' is no study row"):
        results_table([root])


def test_ablation_table_means_over_seeds_and_marks_equal_and_missing_rows(root):
    table = ablation_table(results_table([root]), "cpu", "synthetic").set_index(["study", "row"])
    full = table.loc[("modules", "full")]
    assert full["runs"] == 3
    assert full["mAP mean"] == pytest.approx(41.0)
    # Three seeds, sd 1: the 95% half-width is t(0.975, 2) / sqrt(3) = 4.302653 * 0.577350.
    assert full["mAP ci95"] == pytest.approx(2.484138, abs=1e-5)
    assert table.loc[("modules", "msg"), "runs"] == 1
    assert math.isnan(table.loc[("modules", "msg"), "mAP ci95"])
    assert table.loc[("modules", "wdp"), "status"] == "not yet run"
    adaptive = table.loc[("part fusion", "fusion-adaptive")]
    assert (adaptive["same as"], adaptive["runs"]) == ("full", 3), "cpu: adaptive fusion is full"
    assert table.loc[("number of parts", "parts-4"), "mAP mean"] == pytest.approx(41.0)
    assert table.loc[("tiny spatial attention", "msg-no-tsa"), "status"] == "not yet run"


def test_rows_without_runs_name_the_unrun_rows_and_why_the_profile_cannot_build_others():
    lines = pd.DataFrame(
        {
            "row": ["full", "wdp", "parts-6", "wdp", "parts-8"],
            "status": ["", NOT_RUN, "6 parts need 96 pixels", NOT_RUN, "8 parts need 128 pixels"],
        }
    )
    assert rows_without_runs(lines, "smoke") == [
        "Not yet run: wdp.",
        "No run, as smoke cannot build them: parts-6: 6 parts need 96 pixels; "
        "parts-8: 8 parts need 128 pixels.",
    ]
    assert rows_without_runs(lines.iloc[:1], "cpu") == [], "every row has a run: no sentence"


def test_a_small_real_set_shows_only_the_studies_it_runs(tmp_path):
    write(tmp_path, "full", "viper", 0.4)
    write(tmp_path, "baseline", "viper", 0.3)
    table = results_table([tmp_path])
    shown = set(ablation_table(table, "cpu", "viper")["study"])
    assert shown == set(studies_on("viper")) == set(load_studies()) - {"MSG branches", "image size"}
    assert set(ablation_points(table, "cpu", "viper")["study"]) == shown
    assert set(ablation_table(table, "cpu", "synthetic")["study"]) == set(load_studies())


def test_points_are_one_line_per_study_row_and_seed(root):
    points = ablation_points(results_table([root]), "cpu", "synthetic")
    assert len(points[(points["study"] == "modules") & (points["row"] == "full")]) == 3
    assert set(points.columns) == {"study", "row", "seed", "split", "pretraining", "rank1", "mAP"}


def test_runs_pair_only_when_they_started_from_the_same_backbone():
    def points(starts: dict[str, list[str | None]]) -> pd.DataFrame:
        # Both rows at seeds 0, 1, 2; "full" gains 1 at every seed, except 10 at seed 1.
        lines = [
            {"row": row, "seed": seed, "split": None, "pretraining": start, "mAP": value}
            for row, gains in (("full", [1, 10, 1]), ("baseline", [0, 0, 0]))
            for seed, (start, value) in enumerate(
                zip(starts[row], [50 + g for g in gains], strict=True)
            )
        ]
        return pd.DataFrame(lines)

    same = compare_rows(points({"full": ["a"] * 3, "baseline": ["a"] * 3}), "full", "baseline")
    assert (same["runs"], same["difference"]) == ("3 pairs", pytest.approx(4.0))
    other = compare_rows(
        points({"full": ["a", "b", "a"], "baseline": ["a", "a", "a"]}), "full", "baseline"
    )
    assert (other["runs"], other["difference"]) == ("2 pairs", pytest.approx(1.0))
    assert (other["95% CI low"], other["verdict"]) == (pytest.approx(1.0), "agrees")
    floor = compare_rows(
        points({"full": ["a", "b", "a"], "baseline": [None] * 3}), "full", "baseline"
    )
    assert floor["runs"] == "3 pairs", "a run without a backbone pairs with any"
    unpaired = compare_rows(
        points({"full": ["b", "b", "a"], "baseline": ["a", "a", "c"]}), "full", "baseline"
    )
    assert unpaired["runs"] == "3 vs 3", "no pair at all: Welch over every run"
    assert (same["unit"], same["ratio"], unpaired["unit"]) == ("seed", 0.0, "")


def test_pairs_on_one_split_are_averaged_before_the_interval_over_splits():
    # Splits 0, 1, 2; gains (1, 3), (4, 4), (6, 8) over two seeds -> split gains 2, 4, 7.
    gains = {0: (1, 3), 1: (4, 4), 2: (6, 8)}
    lines = [
        {"row": row, "seed": seed, "split": split, "pretraining": "a", "mAP": 50 + g * on}
        for split, pair in gains.items()
        for seed, g in enumerate(pair)
        for row, on in (("full", 1), ("baseline", 0))
    ]
    line = compare_rows(pd.DataFrame(lines), "full", "baseline", test_train_ratio=1.0)
    assert line["runs"] == "6 pairs on 3 splits"
    assert (line["unit"], line["ratio"], line["df"]) == ("split", 1.0, 2)
    assert line["difference"] == pytest.approx(13 / 3)
    # sd of 2, 4, 7 is 2.516611; t(0.975, 2) = 4.302653; half/half splits overlap, so the
    # variance of the mean is (1/3 + 1) sd^2 (Nadeau and Bengio), not sd^2 / 3.
    half = 4.302653 * 2.516611 * (1 / 3 + 1) ** 0.5
    assert (line["95% CI low"], line["95% CI high"]) == pytest.approx(
        (13 / 3 - half, 13 / 3 + half), rel=1e-5
    )
    with pytest.raises(ValueError, match=r"differ by their random split.*test_train_ratio"):
        compare_rows(pd.DataFrame(lines), "full", "baseline")


def test_a_closed_form_row_pairs_with_every_seed_of_the_other_row():
    # On splits 0-2 the floor and scratch ran with seed 0, the baseline with seed 1.
    lines = [
        {"row": row, "seed": seed, "split": split, "pretraining": None, "mAP": value + split}
        for split in range(3)
        for row, seed, value in (
            ("colour-histogram", 0, 10),
            ("baseline", 1, 30),
            ("scratch", 0, 20),
        )
    ]
    points = pd.DataFrame(lines)
    assert closed_form_rows() == ("colour-histogram", "lomo-xqda")
    floor = compare_rows(points, "baseline", "colour-histogram", test_train_ratio=1.0)
    assert (floor["runs"], floor["difference"]) == ("3 pairs", pytest.approx(20.0))
    assert floor["95% CI low"] == pytest.approx(20.0), "paired by split: no spread"
    trained = compare_rows(points, "baseline", "scratch")
    assert trained["runs"] == "3 vs 3", "a trained row's seed matters: no pair across seeds"


def test_difference_interval_is_the_t_interval_by_hand_and_scipys():
    # Paired gaps 1, 2, 3: mean 2, sd 1, so 2 +- t(0.975, 2) / sqrt(3) = 2 +- 4.302653 * 0.577350.
    paired = difference([11, 22, 33], [10, 20, 30], paired=True)
    assert (paired.value, paired.runs, paired.paired) == (2, (3, 3), True)
    assert (paired.low, paired.high) == pytest.approx((2 - 2.484138, 2 + 2.484138), abs=1e-5)
    reference = stats.ttest_rel([11, 22, 33], [10, 20, 30]).confidence_interval(0.95)
    assert (paired.low, paired.high) == pytest.approx(tuple(reference))
    welch = difference([1, 2, 3, 5], [4, 6, 8], paired=False)
    reference = stats.ttest_ind([1, 2, 3, 5], [4, 6, 8], equal_var=False).confidence_interval()
    assert welch.value == pytest.approx(2.75 - 6)
    assert (welch.low, welch.high) == pytest.approx(tuple(reference))
    assert difference([6, 6], [5, 5]) == Difference(1, 1, 1, (2, 2), False, p=0.0, se=0.0, df=2)
    assert paired.p == pytest.approx(stats.ttest_rel([11, 22, 33], [10, 20, 30]).pvalue)


def test_verdict_follows_the_interval_and_direction():
    assert verdict([40, 42, 41], [20, 22, 21]) == "agrees"
    assert verdict([20, 22, 21], [40, 42, 41]) == "disagrees"
    assert verdict([30, 40, 35], [31, 41, 33]) == "no clear difference"
    assert verdict([30], [20, 21]) == "one run: cannot judge"
    assert verdict([], [20, 21]) == NO_RUNS == "not run"
    assert verdict([5, 5], [5, 5]) == "no clear difference"
    assert verdict([6, 6], [5, 5]) == "agrees"
    # Large spread across seeds, but the same small gain at every seed: only pairing sees it.
    better, worse = [30.5, 40.4, 50.6], [30.0, 40.0, 50.0]
    assert verdict(better, worse) == "no clear difference"
    assert verdict(better, worse, paired=True) == "agrees"
    assert verdict(worse, better, paired=True) == "disagrees"
    assert verdict([31, 41], [30, 40], paired=True) == "agrees"
    assert verdict([30, 40], [30, 40], paired=True) == "no clear difference"


def test_findings_name_known_rows_and_are_judged(root, tmp_path):
    assert {f["better"] for f in load_findings()} >= {"nl", "msg", "wdp", "full", "parts-6"}
    verdicts = finding_verdicts(results_table([root]), "cpu", "synthetic").set_index("comparison")
    assert verdicts.loc["nl > baseline", "verdict"] == "no clear difference"
    assert verdicts.loc["full > nl", "verdict"] == "no clear difference"
    assert verdicts.loc["msg > baseline", "verdict"] == "one run: cannot judge"
    assert verdicts.loc["wdp > baseline", "verdict"] == NO_RUNS == "not run"
    assert verdicts.loc["msg > baseline", "difference"] == pytest.approx(50 - 21)
    assert verdicts.loc["full > baseline", "verdict (Holm)"] == "agrees", "the abstract's claim"
    summary = verdict_summary(verdicts.reset_index())
    assert summary.startswith(
        f"after Holm's correction, of {len(verdicts)} comparisons, 1 agree (full > baseline), "
        "none disagree"
    )
    judged = 3  # nl > baseline, full > nl and full > baseline
    assert summary.endswith(
        f", {len(verdicts) - judged} cannot be judged yet (not run, or one run)"
    )
    bad = tmp_path / "findings.yaml"
    bad.write_text("- {finding: x, better: nope, worse: [full], quote: q}\n")
    with pytest.raises(ValueError, match=r"unknown rows \['nope'\]"):
        load_findings(bad)


def test_a_small_real_set_is_judged_only_on_the_rows_it_runs(root):
    findings = [
        {"finding": "f", "better": "full", "worse": ["baseline", "msg-branches-1"], "quote": "q"},
        {"finding": "g", "better": "image-256x128", "worse": ["image-128x64"], "quote": "q"},
    ]
    table = results_table([root])
    viper = finding_verdicts(table, "cpu", "viper", findings)
    assert viper["comparison"].tolist() == ["full > baseline"]
    synthetic = finding_verdicts(table, "cpu", "synthetic", findings)
    assert len(synthetic) == 3, "the synthetic set runs every study"


def test_a_significant_finding_is_named_in_the_summary(root):
    findings = [{"finding": "f", "better": "full", "worse": ["baseline"], "quote": "q"}]
    verdicts = finding_verdicts(results_table([root]), "cpu", "synthetic", findings)
    assert verdicts["verdict"].tolist() == ["agrees"]
    assert verdict_summary(verdicts) == (
        "after Holm's correction, of 1 comparisons, 1 agree (full > baseline), none disagree, "
        "0 show no clear difference"
    )


def test_findings_table_names_each_comparison_as_the_verdicts_do(root):
    findings = [
        {"finding": "f", "better": "full", "worse": ["nl", "wdp"], "quote": "q1"},
        {"finding": "g", "better": "msg", "worse": ["baseline"], "quote": "q2", "note": "n"},
    ]
    findings[0]["differs"] = "ours is smaller"
    table = findings_table(findings)
    assert table["where ours differs"].tolist() == ["ours is smaller", ""]
    assert table["comparisons"].tolist() == ["full > nl, full > wdp", "msg > baseline"]
    assert table["the paper's words"].tolist() == ["q1", "q2"]
    assert table["our reading"].tolist() == ["", "n"]
    verdicts = finding_verdicts(results_table([root]), "cpu", "synthetic", findings)
    assert verdicts["comparison"].tolist() == ["full > nl", "full > wdp", "msg > baseline"]
    assert len(findings_table()) == len(load_findings())


def test_chance_table_counts_judged_verdicts_per_profile():
    verdicts = pd.DataFrame(
        {
            "profile": ["cpu"] * 6 + ["smoke"],
            "verdict": [
                "agrees",
                "disagrees",
                "no clear difference",
                "no clear difference",
                "not run",
                "one run: cannot judge",
                "no clear difference",
            ],
            "verdict (Holm)": [
                "agrees",
                "no clear difference",
                "no clear difference",
                "no clear difference",
                "not run",
                "one run: cannot judge",
                "no clear difference",
            ],
        }
    )
    table = chance_table(verdicts)
    assert table.loc["cpu", "judged"] == 4, "not run and one run are not judged"
    assert table.loc["cpu", "agree or disagree"] == 2
    assert table.loc["cpu", "expected by chance"] == pytest.approx(0.05 * 4)
    assert table.loc["cpu", "after Holm"] == 1
    assert table.loc["smoke"].tolist() == pytest.approx([1, 0, 0.05, 0])
    assert chance_table(verdicts, confidence=0.9).loc["cpu", "expected by chance"] == (
        pytest.approx(0.4)
    )


def test_per_dataset_and_transfer_tables(root):
    table = results_table([root])
    per = per_dataset_table(table, "cpu", ["full"]).set_index("dataset")
    assert per.loc["viper", "mAP"] == pytest.approx(10.0)
    assert per.loc["synthetic", "runs"] == 3
    matrix = transfer_table(table, "cpu", "full")
    assert matrix.loc["synthetic", "viper"] == pytest.approx(5.0)
    assert matrix.loc["viper", "synthetic"] == pytest.approx(15.0)
    assert matrix.loc["synthetic", "synthetic"] == pytest.approx(41.0)
    assert matrix.loc["viper", "viper"] == pytest.approx(10.0)
    assert transfer_table(table, "cpu", "wdp").empty


def test_knob_table_and_the_most_robust_row(root):
    matrix = knob_table(results_table([root]), "cpu")
    assert list(matrix.columns) == ["none", "occlusion"]
    assert list(matrix.index) == ["baseline", "full"]
    winners = knob_winners(matrix).set_index("knob")
    assert winners.loc["occlusion", "most robust row"] == "full"
    assert winners.loc["occlusion", "its share"] == pytest.approx(0.5)
    assert winners.loc["occlusion", "baseline share"] == pytest.approx(0.25)
    assert knob_winners(pd.DataFrame()).empty


def test_large_benchmarks_are_not_yet_reproduced_without_files(root):
    grid = large_benchmark_table([root], paper_claims(root))
    assert len(grid) == 4 + 2 + 2
    assert set(grid["status"]) == {NOT_REPRODUCED}
    market = grid.set_index(["dataset", "variant"]).loc[("market1501", "multi_query")]
    assert (market["rank1 paper"], market["mAP paper"]) == (96.1, 90.3)
    assert math.isnan(market["rank1 ours"])
    write(root, "full", "market1501", 0.9, profile="full")
    grid = large_benchmark_table([root], paper_claims(root)).set_index(["dataset", "variant"])
    assert grid.loc[("market1501", "multi_query"), "mAP ours"] == pytest.approx(90.0)
    assert grid.loc[("market1501", "single_query_rerank"), "status"] == NOT_REPRODUCED


def test_an_empty_results_folder_keeps_the_metrics_numeric(root, tmp_path):
    # An empty folder read beside a full one once turned every metric into an object, and the
    # transfer heat map of the datasets chapter failed on it.
    empty = tmp_path / "empty"
    empty.mkdir()
    table = results_table([empty, root])
    assert len(table) == len(results_table([root]))
    assert all(table[m].dtype == float for m in ("rank1", "mAP"))
    assert results_table([empty])["mAP"].dtype == float


def test_no_table_averages_runs_from_two_backbones(tmp_path):
    def run(name, row, pretraining, profile="cpu"):
        data = result_dict(name, profile=profile, dataset="viper", rank1=0.3, row=row)
        data["run"]["pretraining"] = pretraining
        write_results(data, tmp_path)

    run("a", "full", "peta-resnet18 sha256:aaaaaaaaaaaa")
    run("b", "colour-histogram", None)  # no backbone: pairs with any
    run("c", "baseline", "peta-resnet18 sha256:aaaaaaaaaaaa")
    run("d", "full", "imagenet", profile="full")  # another profile, another backbone
    assert len(results_table([tmp_path])) == 4
    run("e", "nl", "peta-resnet18 sha256:bbbbbbbbbbbb")
    with pytest.raises(ValueError, match=r"a\.json and .*e\.json started from two backbones in"):
        results_table([tmp_path])


def test_a_results_folder_that_is_not_there_is_named_not_read_as_empty(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"results folder .*reslts: not there"):
        results_table([tmp_path / "reslts"])
    (tmp_path / "file").write_text("")
    with pytest.raises(FileNotFoundError, match=r"results folder .*file: a file"):
        results_table([tmp_path / "file"])
