"""The paper's ablation findings (``paper_findings.yaml``) judged against our runs.

Each finding says that one study row beats others. A comparison's raw verdict follows from the
95% confidence interval of the difference, the runs paired by seed, protocol split and
pretrained backbone (our choice of rule; the paper reports single runs): above zero, the finding
agrees; below, it disagrees; across zero, there is no clear difference. Over random splits the
interval is Nadeau and Bengio's corrected one (:mod:`reid_lib.reports.significance`). The
corrected verdict (:func:`with_holm`) holds the comparisons of one study to a 5% chance of any
false verdict (Holm), and each line gives the smallest difference its test could have detected.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from reid_lib.reports.ablation import ablation_points, splits_are_units
from reid_lib.reports.display import CI_HIGH, CI_LOW, DIFFERENCE
from reid_lib.reports.intervals import CONFIDENCE
from reid_lib.reports.records import shown
from reid_lib.reports.significance import (
    ALPHA,
    POWER,
    SPLIT_TEST_TRAIN_RATIO,
    TARGET_EFFECT,
    detectable_limit,
    holm,
    minimum_detectable_effect,
    paired_t,
    units_for_effect,
    welch_t,
)
from reid_lib.strict_yaml import read_yaml
from reid_lib.studies.rows import closed_form_rows, load_rows, load_studies, studies_on

PAPER_FINDINGS = Path(__file__).resolve().parent / "paper_findings.yaml"
#: The metric a verdict compares.
METRIC = "mAP"
#: The verdicts an interval gives (:func:`verdict_of`): it lies above zero, below, or holds it.
AGREES, DISAGREES, UNCLEAR = "agrees", "disagrees", "no clear difference"
#: The verdicts of a comparison that could be judged (the others: not run, or one run).
JUDGED = (AGREES, DISAGREES, UNCLEAR)
#: The verdict of a comparison with a row that has no run.
NO_RUNS = "not run"
#: The columns :func:`with_holm` adds: the adjusted p-value, the verdict it gives, and the
#: minimum detectable effect (in metric points).
HOLM_P, HOLM_VERDICT = "Holm p", "verdict (Holm)"
MDE = f"detectable at {POWER:.0%} power"
#: The columns of :func:`compare_rows` that describe its test, not its outcome: the standard
#: error, the degrees of freedom, the unit of a paired test (``split`` or ``seed``; empty when
#: unpaired) and Nadeau and Bengio's ratio (0 without the correction).
TEST_COLUMNS = ("se", "df", "unit", "ratio")
#: The column of :func:`power_plan` that bounds what more units could detect.
UNLIMITED = "detectable with unlimited units"


def load_findings(path: Path = PAPER_FINDINGS) -> list[dict[str, Any]]:
    """The paper's ablation findings, their rows checked against the study rows.

    Raises:
        ValueError: a finding that names an unknown row, or lacks a field.
    """
    findings = read_yaml(path)
    rows = load_rows()
    for item in findings:
        missing = {"finding", "better", "worse", "quote"} - set(item)
        if missing:
            raise ValueError(f"{path}: finding {item!r} lacks {sorted(missing)}")
        unknown = [r for r in (item["better"], *item["worse"]) if r not in rows]
        if unknown:
            raise ValueError(f"{path}: finding {item['finding']!r} names unknown rows {unknown}")
    return findings


def comparison_name(better: str, worse: str) -> str:
    """How the tables name a comparison: ``"<better> > <worse>"``."""
    return f"{better} > {worse}"


def findings_table(findings: list[dict[str, Any]] | None = None) -> pd.DataFrame:
    """One line per finding (:func:`load_findings`): the comparisons it makes, the paper's
    sentence it rests on (verbatim), our reading of it where the sentence needs one, and where our
    implementation differs from the source in a way that could change the verdict."""
    return pd.DataFrame(
        [
            {
                "finding": item["finding"],
                "comparisons": ", ".join(comparison_name(item["better"], w) for w in item["worse"]),
                "the paper's words": item["quote"],
                "our reading": item.get("note", ""),
                "where ours differs": item.get("differs", ""),
            }
            for item in (findings if findings is not None else load_findings())
        ]
    )


@dataclass(frozen=True)
class Difference:
    """``better - worse`` in the mean of a metric, with its confidence interval and test.

    Attributes:
        value: the difference of the means (of the pairs' differences, when paired).
        low, high: the interval's ends (both ``value`` when the runs show no spread; NaN when
            there are too few runs).
        runs: runs (pairs when paired) on each side.
        paired: whether the runs were paired by seed and split.
        p: the two-sided p-value of the t-test behind the interval (NaN with too few runs).
        se, df: its standard error and degrees of freedom.
    """

    value: float
    low: float
    high: float
    runs: tuple[int, int]
    paired: bool
    p: float = math.nan
    se: float = math.nan
    df: float = math.nan


def difference(
    better: Sequence[float],
    worse: Sequence[float],
    *,
    paired: bool = False,
    test_train_ratio: float | None = None,
    confidence: float = CONFIDENCE,
) -> Difference:
    """The difference of the means, its two-sided t interval at ``confidence`` and its p-value.

    Paired (``better[i]`` and ``worse[i]`` share a seed and a split): the paired t-test of the
    differences, with ``n - 1`` degrees of freedom, corrected for overlapping random splits with
    ``test_train_ratio`` (:func:`~reid_lib.reports.significance.paired_t`). Otherwise Welch's
    test (unequal variances, Welch-Satterthwaite degrees of freedom).
    """
    if paired:
        test = paired_t([b - w for b, w in zip(better, worse, strict=True)], test_train_ratio)
        runs = (len(better), len(better))
    else:
        test = welch_t(better, worse)
        runs = (len(better), len(worse))
    low, high = (math.nan, math.nan) if math.isnan(test.df) else test.interval(confidence)
    return Difference(test.mean, low, high, runs, paired, test.p, test.se, test.df)


def verdict_of(diff: Difference) -> str:
    """``agrees`` (the interval lies above zero), ``disagrees`` (below), ``no clear
    difference`` (it holds zero), or why it cannot be judged."""
    if not min(diff.runs):
        return NO_RUNS
    if math.isnan(diff.low):
        return "one run: cannot judge"
    if diff.low > 0:
        return AGREES
    if diff.high < 0:
        return DISAGREES
    return UNCLEAR


def verdict(better: Sequence[float], worse: Sequence[float], *, paired: bool = False) -> str:
    """:func:`verdict_of` the :func:`difference` of ``better`` and ``worse``."""
    return verdict_of(difference(better, worse, paired=paired))


def compare_rows(
    points: pd.DataFrame, better: str, worse: str, test_train_ratio: float | None = None
) -> dict[str, Any]:
    """``better`` against ``worse`` on :data:`METRIC`, from the long-form ``points`` of one
    profile and dataset (columns ``row``, ``seed``, ``split``, ``pretraining`` and the
    metric).

    ``better`` is the row the paper (or the book) claims higher: the columns name the claim,
    not the outcome, which the difference and the verdict give.

    The runs are paired by seed and split: runs of one seed on the synthetic set share their
    data (``data.synthetic_seed``) and runs of one split share their test ids. Two runs that both
    started from a pretrained backbone pair only when it is the same one (``pretraining``); a run
    without one (the floor, or a row trained from scratch) pairs with either. A row fitted in
    closed form (:func:`~reid_lib.studies.rows.closed_form_rows`) does not depend on its seed, so
    its run on a split pairs with the other row's run of every seed there. When the pairs cover
    several splits (:func:`~reid_lib.reports.ablation.splits_are_units`), the pairs on one split
    are averaged first and the interval is taken over splits; otherwise each pair is a unit. With
    fewer than two units, all runs are compared unpaired (Welch). Units that are random splits
    get Nadeau and Bengio's correction with ``test_train_ratio`` (the dataset's
    :data:`~reid_lib.reports.significance.SPLIT_TEST_TRAIN_RATIO`).

    Raises:
        ValueError: the units are splits but ``test_train_ratio`` is None.
    """
    points = points.drop_duplicates(["row", "seed", "split"])
    values = {
        row: {
            (seed, split): (None if pd.isna(start) else start, value)
            for seed, split, start, value in zip(
                group["seed"], group["split"], group["pretraining"], group[METRIC], strict=True
            )
        }
        for row, group in points.groupby("row")
    }
    seedless = closed_form_rows()
    ours = _every_seed(values.get(better, {}), values.get(worse, {}), better in seedless)
    theirs = _every_seed(values.get(worse, {}), values.get(better, {}), worse in seedless)
    common = sorted(k for k in set(ours) & set(theirs) if _same_start(ours[k][0], theirs[k][0]))
    by_split = splits_are_units(split for _, split in common)
    units: dict[Any, list[tuple]] = {}
    for seed, split in common:
        units.setdefault(split if by_split else (seed, split), []).append((seed, split))
    paired = len(units) >= 2
    if paired:
        a = [mean([ours[k][1] for k in keys]) for keys in units.values()]
        b = [mean([theirs[k][1] for k in keys]) for keys in units.values()]
    else:
        a = [v for _, v in values.get(better, {}).values()]
        b = [v for _, v in values.get(worse, {}).values()]
    if paired and by_split and test_train_ratio is None:
        raise ValueError(
            f"{comparison_name(better, worse)}: the runs differ by their random split, so the "
            "test needs the protocol's test_train_ratio (see SPLIT_TEST_TRAIN_RATIO)"
        )
    ratio = test_train_ratio if paired and by_split else None
    diff = difference(a, b, paired=paired, test_train_ratio=ratio)
    on_splits = "" if len(units) == len(common) else f" on {len(units)} splits"
    return {
        "comparison": comparison_name(better, worse),
        f"{METRIC}, claimed higher": mean(a),
        f"{METRIC}, claimed lower": mean(b),
        DIFFERENCE: diff.value,
        CI_LOW: diff.low,
        CI_HIGH: diff.high,
        "runs": f"{len(common)} pairs{on_splits}" if paired else f"{len(a)} vs {len(b)}",
        "verdict": verdict_of(diff),
        "p": diff.p,
        "se": diff.se,
        "df": diff.df,
        "unit": ("split" if by_split else "seed") if paired else "",
        "ratio": ratio or 0.0,
    }


def with_holm(lines: pd.DataFrame, family: Sequence[str] = ()) -> pd.DataFrame:
    """``lines`` of :func:`compare_rows` with the family-wise corrected verdict beside the raw one.

    The comparisons that share the values of the columns ``family`` (all of them when empty)
    form one family of ``m`` judged comparisons. Adds :data:`HOLM_P` (Holm's adjusted p-value
    within the family), :data:`HOLM_VERDICT` (agrees or disagrees when it is below 5%, by the sign
    of the difference; a comparison that cannot be judged keeps its raw verdict) and :data:`MDE`,
    the smallest true difference the comparison's test would detect with 80% power at level
    ``0.05 / m``, the strictest step of Holm's rule (NaN when it could not be judged). The
    test's columns that it reads (:data:`TEST_COLUMNS`) are left out of the result.
    """
    if lines.empty:
        return lines.assign(**{HOLM_P: [], HOLM_VERDICT: [], MDE: []})
    out = []
    for _, group in _families(lines, family):
        judged = group["verdict"].isin(JUDGED)
        m = _family_size(judged)
        adjusted = holm([p if ok else math.nan for p, ok in zip(group["p"], judged, strict=True)])
        verdicts = [
            _decision(diff, p) if ok else raw
            for diff, p, ok, raw in zip(
                group[DIFFERENCE], adjusted, judged, group["verdict"], strict=True
            )
        ]
        detectable = [
            minimum_detectable_effect(se, df, alpha=ALPHA / m) if ok else math.nan
            for se, df, ok in zip(group["se"], group["df"], judged, strict=True)
        ]
        out.append(group.assign(**{HOLM_P: adjusted, HOLM_VERDICT: verdicts, MDE: detectable}))
    return pd.concat(out).loc[lines.index].drop(columns=list(TEST_COLUMNS), errors="ignore")


def _families(lines: pd.DataFrame, family: Sequence[str]):
    """``(key, lines)`` of each family: the lines that share the values of the columns
    ``family``, or all of them (key ``()``) when it is empty."""
    return lines.groupby(list(family), sort=False) if family else [((), lines)]


def _family_size(judged: pd.Series) -> int:
    """Holm's ``m``: the comparisons of a family that could be judged (at least 1)."""
    return max(int(judged.sum()), 1)


def power_plan(
    lines: pd.DataFrame, family: Sequence[str] = (), target: float = TARGET_EFFECT
) -> pd.DataFrame:
    """Per family of :func:`compare_rows` lines (as :func:`with_holm` groups them), what more runs
    could buy: one line with the family's ``family`` values, its paired comparisons, their units
    now, the range of the differences they can detect now (:data:`MDE`, at the family's level
    ``0.05 / m``), the range of what unlimited units could detect (:data:`UNLIMITED`, the
    comparisons' :func:`~reid_lib.reports.significance.detectable_limit`: 0 over seeds, which
    share nothing; above 0 over random splits), and how many units every comparison of the family
    needs to detect ``target`` (:func:`~reid_lib.reports.significance.units_for_effect`, from the
    spread of its differences so far), or ``none`` when no number of them does.

    The spread is measured on the units at hand, so with a few of them the plan is rough; more
    seeds on each split shrink only the seeds' part of it, which one seed per split cannot tell
    apart from the splits' part. Families without a paired comparison are left out.
    """
    plans = []
    for key, group in _families(lines, family):
        m = _family_size(group["verdict"].isin(JUDGED))
        level = {"alpha": ALPHA / m}
        planned = group[group["verdict"].isin(JUDGED) & (group["unit"] != "")]
        if planned.empty:
            continue
        units = (planned["df"] + 1).astype(int).tolist()
        kinds = set(planned["unit"])
        unit = kinds.pop() if len(kinds) == 1 else "unit"
        now, best, needs = [], [], []
        for se, n, ratio in zip(planned["se"], units, planned["ratio"], strict=True):
            sd = se / math.sqrt(1 / n + ratio)  # the spread of the unit differences
            now.append(minimum_detectable_effect(se, n - 1, **level))
            best.append(detectable_limit(sd, test_train_ratio=ratio, **level))
            needs.append(units_for_effect(target, sd, test_train_ratio=ratio, **level))
        count = f"{min(units)}" if min(units) == max(units) else f"{min(units)}-{max(units)}"
        plans.append(
            {
                **dict(zip(family, key if isinstance(key, tuple) else (key,), strict=True)),
                "comparisons": len(planned),
                "units now": f"{count} {unit}s",
                MDE: _span(now),
                UNLIMITED: _span(best),
                f"units to detect {shown(target)}": (
                    "none" if None in needs else f"{max(needs)} {unit}s"
                ),
            }
        )
    return pd.DataFrame(plans)


def _span(values: Sequence[float]) -> str:
    """``"low to high"`` of ``values`` as the tables show numbers (one value when they agree)."""
    low, high = shown(min(values)), shown(max(values))
    return low if low == high else f"{low} to {high}"


def _decision(diff: float, adjusted_p: float) -> str:
    """The verdict of an adjusted p-value: the sign of ``diff`` when it is below :data:`ALPHA`."""
    if adjusted_p < ALPHA:
        return AGREES if diff > 0 else DISAGREES
    return UNCLEAR


def verdict_view(lines: pd.DataFrame) -> pd.DataFrame:
    """Verdict lines (:func:`with_holm`) as the book shows them: the raw difference with its
    interval, and the decision after Holm's correction with its p-value and minimum detectable
    effect. The raw verdict and p-value, which the interval already says, are left out."""
    return lines.drop(columns=["verdict", "p"], errors="ignore")


def study_of(finding: dict[str, Any]) -> str:
    """The family a finding's comparisons are corrected in: the first study (``ablations.yaml``)
    that holds every row it compares, else the finding alone (``finding: <its name>``)."""
    rows = {finding["better"], *finding["worse"]}
    for study, members in load_studies().items():
        if rows <= set(members):
            return study
    return f"finding: {finding['finding']}"


def _every_seed(mine: dict, other: dict, seedless: bool) -> dict:
    """``mine`` (``(seed, split) -> (pretraining, value)``), where a seedless row's run on a split
    also stands under every seed that ``other`` has on that split."""
    if not seedless:
        return mine
    by_split = {split: run for (_, split), run in mine.items()}
    spread = {(seed, split): by_split[split] for seed, split in other if split in by_split}
    return {**mine, **spread}


def _same_start(ours: str | None, theirs: str | None) -> bool:
    """Whether two runs' pretrainings allow pairing them: equal, or one of them has none."""
    return ours is None or theirs is None or ours == theirs


def finding_comparisons(
    table: pd.DataFrame, profile: str, dataset: str, findings: list[dict[str, Any]] | None = None
) -> pd.DataFrame:
    """One line per comparison a paper finding makes (:func:`compare_rows`, with its test's
    columns), with the finding, its study (``study``, :func:`study_of`) and where our
    implementation differs from the source in a way that could change the verdict (``where ours
    differs``, the finding's ``differs``).

    Only comparisons whose rows ``dataset`` runs (:func:`~reid_lib.studies.rows.studies_on`: a
    small real set runs no MSG-branch or image-size row) are listed."""
    points = ablation_points(table, profile, dataset)
    runs = {row for rows in studies_on(dataset).values() for row in rows}
    ratio = SPLIT_TEST_TRAIN_RATIO.get(dataset)
    lines = [
        {
            "finding": item["finding"],
            "study": study_of(item),
            **compare_rows(points, item["better"], row, ratio),
            "where ours differs": item.get("differs", ""),
        }
        for item in (findings if findings is not None else load_findings())
        for row in item["worse"]
        if {item["better"], row} <= runs
    ]
    return pd.DataFrame(lines)


def finding_verdicts(
    table: pd.DataFrame, profile: str, dataset: str, findings: list[dict[str, Any]] | None = None
) -> pd.DataFrame:
    """:func:`finding_comparisons` judged: both means, the difference with its 95% confidence
    interval, the raw verdict, and the verdict corrected within the finding's study with its
    minimum detectable effect (:func:`with_holm`)."""
    return with_holm(finding_comparisons(table, profile, dataset, findings), ["study"])


def mean(values: Sequence[float]) -> float:
    """The mean of ``values``; NaN for none."""
    return sum(values) / len(values) if len(values) else math.nan


def chance_table(verdicts: pd.DataFrame, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Per profile, the comparisons judged, those whose raw interval agrees or disagrees, how
    many of them would do so by chance alone if no row differed from any other, and how many
    agree or disagree after Holm's correction (:func:`with_holm`).

    Args:
        verdicts: lines of :func:`finding_verdicts` with a ``profile`` column, for any number of
            datasets.
        confidence: the level of the raw intervals.

    Returns:
        One line per profile (index ``profile``): ``judged`` (an interval could be computed),
        ``agree or disagree``, ``expected by chance`` (``(1 - confidence) * judged``, which holds
        however the comparisons depend on each other) and ``after Holm``.
    """
    judged = verdicts[verdicts["verdict"].isin(JUDGED)]
    decided = [AGREES, DISAGREES]
    counts = judged.groupby("profile").agg(
        judged=("verdict", "size"),
        raw=("verdict", lambda v: int(v.isin(decided).sum())),
        holm=(HOLM_VERDICT, lambda v: int(v.isin(decided).sum())),
    )
    counts.insert(2, "expected by chance", (1 - confidence) * counts["judged"])
    return counts.rename(columns={"raw": "agree or disagree", "holm": "after Holm"})


def verdict_summary(verdicts: pd.DataFrame) -> str:
    """A sentence counting the corrected verdicts (:data:`HOLM_VERDICT`) and naming the
    comparisons that agree or disagree after the correction; for those without a clear
    difference, the range of the differences they could have detected (:data:`MDE`); the
    comparisons that cannot be judged yet are counted only when there are some."""
    if verdicts.empty:
        return "no comparison could be made"
    parts = []
    for kind in (AGREES, DISAGREES):
        names = verdicts.loc[verdicts[HOLM_VERDICT] == kind, "comparison"].tolist()
        if names:
            parts.append(f"{len(names)} {kind.rstrip('s')} ({', '.join(names)})")
        else:
            parts.append(f"none {kind.rstrip('s')}")
    unclear = int((verdicts[HOLM_VERDICT] == UNCLEAR).sum())
    unjudged = int((~verdicts["verdict"].isin(JUDGED)).sum())
    detectable = verdicts.loc[verdicts[HOLM_VERDICT] == UNCLEAR, MDE].dropna()
    parts.append(f"{unclear} show no clear difference")
    if len(detectable):
        parts[-1] += (
            f" (none larger than the {_span(detectable)} {METRIC} points they could detect)"
        )
    if unjudged:
        parts.append(f"{unjudged} cannot be judged yet (not run, or one run)")
    return f"after Holm's correction, of {len(verdicts)} comparisons, " + ", ".join(parts)
