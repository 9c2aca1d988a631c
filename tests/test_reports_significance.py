"""The corrected resampled t-test, Holm's adjustment and the minimum detectable effect: against
scipy and hand-worked cases; and the corrected verdicts built on them."""

import math

import pandas as pd
import pytest
from scipy import stats

from reid_lib.reports.significance import (
    detectable_effect,
    detectable_limit,
    holm,
    minimum_detectable_effect,
    paired_t,
    units_for_effect,
    welch_t,
)
from reid_lib.reports.verdicts import (
    HOLM_P,
    HOLM_VERDICT,
    MDE,
    UNLIMITED,
    power_plan,
    study_of,
    verdict_summary,
    with_holm,
)


def test_the_plain_paired_test_is_scipys():
    a, b = [41.0, 38.5, 45.0, 40.2, 43.1], [40.0, 38.0, 43.5, 40.6, 41.0]
    test = paired_t([x - y for x, y in zip(a, b, strict=True)])
    assert test.p == pytest.approx(stats.ttest_rel(a, b).pvalue, rel=1e-12)
    assert test.interval() == pytest.approx(tuple(stats.ttest_rel(a, b).confidence_interval()))
    assert test.df == 4


def test_the_corrected_resampled_test_by_hand():
    # Differences 1..5 over 5 half/half splits: mean 3, s^2 = 2.5. Nadeau and Bengio: the
    # variance of the mean is (1/5 + 1) * 2.5 = 3, so se = sqrt(3) and t = 3 / sqrt(3) = sqrt(3).
    test = paired_t([1, 2, 3, 4, 5], test_train_ratio=1.0)
    assert (test.mean, test.se, test.df) == (3, pytest.approx(math.sqrt(3)), 4)
    assert test.p == pytest.approx(2 * stats.t.sf(math.sqrt(3), 4))
    assert test.p > paired_t([1, 2, 3, 4, 5]).p, "overlap makes the test less sure"
    # CAVIAR4REID: 25 test ids, 47 training ids.
    caviar = paired_t([1, 2, 3, 4, 5], test_train_ratio=25 / 47)
    assert caviar.se == pytest.approx(math.sqrt((1 / 5 + 25 / 47) * 2.5))


def test_too_few_units_and_no_spread():
    one = paired_t([2.0])
    assert one.mean == 2 and math.isnan(one.p) and math.isnan(one.se)
    assert paired_t([1.0, 1.0]).p == 0.0 and paired_t([0.0, 0.0]).p == 1.0


def test_welch_is_scipys():
    a, b = [1, 2, 3, 5], [4, 6, 8]
    test = welch_t(a, b)
    reference = stats.ttest_ind(a, b, equal_var=False)
    assert test.p == pytest.approx(reference.pvalue, rel=1e-12)
    assert test.interval() == pytest.approx(tuple(reference.confidence_interval()))


def test_holm_by_hand():
    # Sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1: 0.02, 0.03, 0.06, 0.04 -> running maximum
    # 0.02, 0.03, 0.06, 0.06; back in the order given.
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    adjusted = holm([0.5, math.nan, 0.4])
    assert adjusted[0] == adjusted[2] == pytest.approx(0.8) and math.isnan(adjusted[1])
    assert holm([0.9, 0.8]) == [1.0, 1.0], "capped at 1"
    assert holm([]) == []


def test_the_minimum_detectable_effect_has_the_power_it_claims():
    # Many degrees of freedom: the normal approximation z(0.975) + z(0.8) = 2.801585.
    assert minimum_detectable_effect(2.0, 1e7) == pytest.approx(2 * 2.801585, rel=1e-4)
    se, df, alpha = 1.3, 4, 0.05 / 6
    effect = minimum_detectable_effect(se, df, alpha=alpha)
    critical = stats.t.ppf(1 - alpha / 2, df)
    power = stats.nct.sf(critical, df, effect / se) + stats.nct.cdf(-critical, df, effect / se)
    assert power == pytest.approx(0.8, abs=1e-6)
    assert effect > minimum_detectable_effect(se, df), "a stricter level needs a larger effect"
    assert minimum_detectable_effect(0.0, 4) == 0 and math.isnan(
        minimum_detectable_effect(1, math.nan)
    )


def test_units_for_a_target_are_the_textbook_paired_sample_sizes():
    # Paired t-test, two-sided 5%, 80% power (Cohen's d = target / sd): 34 pairs for d = 0.5,
    # 15 for d = 0.8, 10 for d = 1, as G*Power gives.
    assert [units_for_effect(d, 1.0) for d in (0.5, 0.8, 1.0)] == [34, 15, 10]
    assert detectable_effect(1.0, 34) <= 0.5 < detectable_effect(1.0, 33)
    assert detectable_limit(1.0) == 0, "units that share nothing: any effect, given enough"
    assert units_for_effect(0.5, 1.0, most=20) is None
    assert units_for_effect(0.5, 0.0) == 2
    with pytest.raises(ValueError, match="target=0: expected a positive difference"):
        units_for_effect(0, 1.0)


def test_over_random_splits_no_number_of_splits_detects_less_than_the_limit():
    # The chapter's exercise: differences 1, 1, 0.5, 1, 1.5 over five half/half splits.
    differences = [1, 1, 0.5, 1, 1.5]
    sd, test = math.sqrt(0.125), paired_t(differences, test_train_ratio=1.0)
    assert detectable_effect(sd, 5, test_train_ratio=1.0) == pytest.approx(
        minimum_detectable_effect(test.se, test.df)
    )
    # Unlimited splits: se -> sd * sqrt(1), and the test -> a z test: sd * (1.96 + 0.84).
    limit = detectable_limit(sd, test_train_ratio=1.0)
    assert limit == pytest.approx(sd * 2.801585, rel=1e-5)
    assert units_for_effect(limit * 0.999, sd, test_train_ratio=1.0) is None
    needed = units_for_effect(1.2, sd, test_train_ratio=1.0)
    assert detectable_effect(sd, needed, test_train_ratio=1.0) <= 1.2
    assert detectable_effect(sd, needed - 1, test_train_ratio=1.0) > 1.2
    assert needed == 9


def comparison_line(
    name, difference, p, se, df=4, verdict="agrees", study="s", unit="seed", ratio=0.0
):
    return {
        "study": study,
        "comparison": name,
        "difference": difference,
        "verdict": verdict,
        "p": p,
        "se": se,
        "df": df,
        "unit": unit,
        "ratio": ratio,
    }


def test_the_power_plan_says_what_more_units_could_detect_in_each_family():
    sd = 2.0
    split_se = sd * math.sqrt(1 / 10 + 1)  # ten half/half splits
    lines = pd.DataFrame(
        [
            comparison_line("a > b", 1.0, 0.5, 0.4, df=4, study="seeds"),
            comparison_line("a > c", 1.0, 0.5, 0.8, df=4, study="seeds"),
            comparison_line("a > d", math.nan, math.nan, math.nan, verdict="not run"),
            comparison_line(
                "x > y", 1.0, 0.5, split_se, df=9, study="splits", unit="split", ratio=1
            ),
            comparison_line("u > v", 1.0, 0.5, 1.0, verdict="one run: cannot judge", study="none"),
        ]
    )
    plan = power_plan(lines, ["study"], target=1.5).set_index("study")
    assert list(plan.index) == ["seeds", "splits"], "a family without a paired test is left out"
    seeds, splits = plan.loc["seeds"], plan.loc["splits"]
    level = 0.05 / 2  # two judged comparisons in the family
    assert seeds["comparisons"] == 2 and seeds["units now"] == "5 seeds"
    low, high = (minimum_detectable_effect(se, 4, alpha=level) for se in (0.4, 0.8))
    assert seeds[MDE] == f"{low:.1f} to {high:.1f}" and seeds[UNLIMITED] == "0.0"
    widest = 0.8 * math.sqrt(5)  # the spread of the noisier comparison's differences
    assert seeds["units to detect 1.5"] == f"{units_for_effect(1.5, widest, alpha=level)} seeds"
    assert splits["units now"] == "10 splits" and splits["units to detect 1.5"] == "none"
    assert splits[UNLIMITED] == f"{detectable_limit(sd, test_train_ratio=1):.1f}"


def test_holm_verdicts_are_per_family_and_keep_the_unjudged():
    lines = pd.DataFrame(
        [
            comparison_line("a > b", 2.0, 0.01, 0.5),
            comparison_line("a > c", -2.0, 0.02, 0.5, verdict="disagrees"),
            comparison_line("a > d", 0.1, 0.60, 0.5, verdict="no clear difference"),
            comparison_line("a > e", math.nan, math.nan, math.nan, verdict="not run"),
            comparison_line("x > y", 2.0, 0.02, 0.5, study="t"),
        ]
    )
    out = with_holm(lines, ["study"])
    # Family s judges 3: 0.01 * 3 = 0.03, 0.02 * 2 = 0.04, 0.6 * 1 = 0.6.
    assert out[HOLM_P].tolist()[:3] == pytest.approx([0.03, 0.04, 0.6])
    assert out[HOLM_VERDICT].tolist() == [
        "agrees",
        "disagrees",
        "no clear difference",
        "not run",
        "agrees",
    ]
    assert out[MDE][0] == pytest.approx(minimum_detectable_effect(0.5, 4, alpha=0.05 / 3))
    assert out[MDE][4] == pytest.approx(minimum_detectable_effect(0.5, 4, alpha=0.05))
    assert math.isnan(out[MDE][3])
    alone = with_holm(lines)
    assert alone[HOLM_P][4] == pytest.approx(0.02 * 3), "one family of four judged, rank 2"


def test_each_paper_finding_is_corrected_within_its_study():
    assert study_of({"finding": "x", "better": "nl", "worse": ["baseline"]}) == "modules"
    assert study_of({"finding": "x", "better": "pcb", "worse": ["resnet-ide"]}) == (
        "comparison models"
    )
    assert study_of({"finding": "x", "better": "pcb", "worse": ["nl"]}) == "finding: x"


def test_the_summary_says_how_large_a_difference_the_unclear_comparisons_could_detect():
    lines = pd.DataFrame(
        [
            comparison_line("a > b", 0.1, 0.60, 0.5, verdict="no clear difference"),
            comparison_line("a > c", 0.2, 0.70, 1.0, verdict="no clear difference"),
            comparison_line("a > d", 5.0, 0.001, 0.5),
        ]
    )
    out = with_holm(lines)
    low = minimum_detectable_effect(0.5, 4, alpha=0.05 / 3)
    high = minimum_detectable_effect(1.0, 4, alpha=0.05 / 3)
    assert verdict_summary(out) == (
        "after Holm's correction, of 3 comparisons, 1 agree (a > d), none disagree, 2 show no "
        f"clear difference (none larger than the {low:.1f} to {high:.1f} mAP points they could "
        "detect)"
    )
