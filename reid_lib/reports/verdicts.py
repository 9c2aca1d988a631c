"""The paper's ablation findings (``paper_findings.yaml``) judged against our runs.

Each finding says that one study row beats others. The verdict follows from the 95% confidence
interval of the difference, the runs paired by seed, protocol split and pretrained backbone (our
choice of rule; the paper reports single runs): above zero, the finding agrees; below, it
disagrees; across zero, there is no clear difference.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from reid_lib.reports.ablation import ablation_points, splits_are_units
from reid_lib.reports.intervals import CONFIDENCE, mean_half_width, t_half_width
from reid_lib.strict_yaml import read_yaml
from reid_lib.studies.rows import closed_form_rows, load_rows, studies_on

PAPER_FINDINGS = Path(__file__).resolve().parent / "paper_findings.yaml"
#: The metric a verdict compares.
METRIC = "mAP"
#: The verdicts an interval gives (:func:`verdict_of`): it lies above zero, below, or holds it.
AGREES, DISAGREES, UNCLEAR = "agrees", "disagrees", "no clear difference"
#: The verdicts of a comparison that could be judged (the others: not run, or one run).
JUDGED = (AGREES, DISAGREES, UNCLEAR)
#: The verdict of a comparison with a row that has no run.
NO_RUNS = "not run"


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
    sentence it rests on (verbatim) and our reading of it where the sentence needs one."""
    return pd.DataFrame(
        [
            {
                "finding": item["finding"],
                "comparisons": ", ".join(comparison_name(item["better"], w) for w in item["worse"]),
                "the paper's words": item["quote"],
                "our reading": item.get("note", ""),
            }
            for item in (findings if findings is not None else load_findings())
        ]
    )


@dataclass(frozen=True)
class Difference:
    """``better - worse`` in the mean of a metric, with its confidence interval.

    Attributes:
        value: the difference of the means (of the pairs' differences, when paired).
        low, high: the interval's ends (both ``value`` when the runs show no spread; NaN when
            there are too few runs).
        runs: runs (pairs when paired) on each side.
        paired: whether the runs were paired by seed and split.
    """

    value: float
    low: float
    high: float
    runs: tuple[int, int]
    paired: bool


def difference(
    better: Sequence[float],
    worse: Sequence[float],
    *,
    paired: bool = False,
    confidence: float = CONFIDENCE,
) -> Difference:
    """The difference of the means and its two-sided t interval at ``confidence``.

    Paired (``better[i]`` and ``worse[i]`` share a seed and a split): the interval of the mean of
    the differences, with ``n - 1`` degrees of freedom. Otherwise Welch's interval (unequal
    variances, Welch-Satterthwaite degrees of freedom).
    """
    nan = math.nan
    if paired:
        gaps = [b - w for b, w in zip(better, worse, strict=True)]
        value = mean(gaps)
        half = mean_half_width(gaps, confidence)
        return Difference(value, value - half, value + half, (len(gaps), len(gaps)), True)
    value = mean(better) - mean(worse)
    if len(better) < 2 or len(worse) < 2:
        return Difference(value, nan, nan, (len(better), len(worse)), False)
    parts = [statistics.variance(x) / len(x) for x in (better, worse)]
    spread = math.sqrt(sum(parts))
    df = (
        sum(parts) ** 2
        / sum(part**2 / (len(x) - 1) for part, x in zip(parts, (better, worse), strict=True))
        if spread > 0
        else 1
    )
    half = t_half_width(spread, df, confidence)
    return Difference(value, value - half, value + half, (len(better), len(worse)), False)


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


def compare_rows(points: pd.DataFrame, better: str, worse: str) -> dict[str, Any]:
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
    fewer than two units, all runs are compared unpaired (Welch).
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
    diff = difference(a, b, paired=paired)
    on_splits = "" if len(units) == len(common) else f" on {len(units)} splits"
    return {
        "comparison": comparison_name(better, worse),
        f"{METRIC}, claimed higher": mean(a),
        f"{METRIC}, claimed lower": mean(b),
        "difference": diff.value,
        "95% CI low": diff.low,
        "95% CI high": diff.high,
        "runs": f"{len(common)} pairs{on_splits}" if paired else f"{len(a)} vs {len(b)}",
        "verdict": verdict_of(diff),
    }


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


def finding_verdicts(
    table: pd.DataFrame, profile: str, dataset: str, findings: list[dict[str, Any]] | None = None
) -> pd.DataFrame:
    """One line per comparison a paper finding makes (:func:`compare_rows`): both means, the
    difference with its 95% confidence interval, and the verdict that follows from it.

    Only comparisons whose rows ``dataset`` runs (:func:`~reid_lib.studies.rows.studies_on`: a
    small real set runs no MSG-branch or image-size row) are listed."""
    points = ablation_points(table, profile, dataset)
    runs = {row for rows in studies_on(dataset).values() for row in rows}
    lines = [
        {"finding": item["finding"], **compare_rows(points, item["better"], row)}
        for item in (findings if findings is not None else load_findings())
        for row in item["worse"]
        if {item["better"], row} <= runs
    ]
    return pd.DataFrame(lines)


def mean(values: Sequence[float]) -> float:
    """The mean of ``values``; NaN for none."""
    return sum(values) / len(values) if len(values) else math.nan


def chance_table(verdicts: pd.DataFrame, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Per profile, the comparisons judged, those that agree or disagree, and how many of them
    would agree or disagree by chance alone if no row differed from any other.

    Args:
        verdicts: lines of :func:`finding_verdicts` with a ``profile`` column, for any number of
            datasets.
        confidence: the level of the intervals behind the verdicts.

    Returns:
        One line per profile (index ``profile``): ``judged`` (an interval could be computed),
        ``agree or disagree``, and ``expected by chance``, ``(1 - confidence) * judged``. The
        expectation holds however the comparisons depend on each other (many share a row); the
        probability that at least one comes out by chance does not, so it is not given.
    """
    judged = verdicts[verdicts["verdict"].isin(JUDGED)]
    counts = judged.groupby("profile")["verdict"].agg(
        judged="size", decided=lambda v: int(v.isin([AGREES, DISAGREES]).sum())
    )
    counts["expected by chance"] = (1 - confidence) * counts["judged"]
    return counts.rename(columns={"decided": "agree or disagree"})


def verdict_summary(verdicts: pd.DataFrame) -> str:
    """A sentence counting the verdicts and naming the comparisons that agree or disagree; the
    comparisons that cannot be judged yet are counted only when there are some."""
    if verdicts.empty:
        return "no comparison could be made"
    parts = []
    for kind in (AGREES, DISAGREES):
        names = verdicts.loc[verdicts["verdict"] == kind, "comparison"].tolist()
        if names:
            parts.append(f"{len(names)} {kind.rstrip('s')} ({', '.join(names)})")
        else:
            parts.append(f"none {kind.rstrip('s')}")
    unclear = int((verdicts["verdict"] == UNCLEAR).sum())
    unjudged = int((~verdicts["verdict"].isin(JUDGED)).sum())
    parts.append(f"{unclear} show no clear difference")
    if unjudged:
        parts.append(f"{unjudged} cannot be judged yet (not run, or one run)")
    return f"of {len(verdicts)} comparisons, " + ", ".join(parts)
