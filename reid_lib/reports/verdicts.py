"""The paper's ablation findings (``paper_findings.yaml``) judged against our runs.

Each finding says that one study row beats others. The verdict compares the rows' seeds with a
t-test, paired by seed where both rows have the same seeds (our choice of rule; the paper reports
single runs).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from scipy import stats

from reid_lib.reports.ablation import ablation_points
from reid_lib.studies.rows import load_rows

PAPER_FINDINGS = Path(__file__).resolve().parent / "paper_findings.yaml"
#: The metric a verdict compares.
METRIC = "mAP"
#: Two-sided significance level of a verdict.
ALPHA = 0.05


def load_findings(path: Path = PAPER_FINDINGS) -> list[dict[str, Any]]:
    """The paper's ablation findings, their rows checked against the study rows.

    Raises:
        ValueError: a finding that names an unknown row, or lacks a field.
    """
    findings = yaml.safe_load(Path(path).read_text())
    rows = load_rows()
    for item in findings:
        missing = {"finding", "better", "worse", "quote"} - set(item)
        if missing:
            raise ValueError(f"{path}: finding {item!r} lacks {sorted(missing)}")
        unknown = [r for r in (item["better"], *item["worse"]) if r not in rows]
        if unknown:
            raise ValueError(f"{path}: finding {item['finding']!r} names unknown rows {unknown}")
    return findings


def verdict(
    better: Sequence[float], worse: Sequence[float], *, paired: bool = False, alpha: float = ALPHA
) -> str:
    """``agrees``, ``disagrees``, ``no clear difference`` or why it cannot be judged.

    A two-sided t-test on the per-seed values: paired (``better[i]`` and ``worse[i]`` share a
    seed, hence the same synthetic data or protocol split) or Welch's. A significant difference
    agrees when ``better`` has the higher mean. Differences without any spread are significant
    exactly when they are not zero.
    """
    if not len(better) or not len(worse):
        return "not run"
    if len(better) < 2 or len(worse) < 2:
        return "one seed: cannot judge"
    if paired:
        gaps = {b - w for b, w in zip(better, worse, strict=True)}
        if len(gaps) == 1:
            significant = gaps != {0}
        else:
            significant = stats.ttest_rel(better, worse).pvalue < alpha
    elif len(set(better)) == len(set(worse)) == 1:
        significant = better[0] != worse[0]
    else:
        significant = stats.ttest_ind(better, worse, equal_var=False).pvalue < alpha
    if not significant:
        return "no clear difference"
    return "agrees" if mean(better) > mean(worse) else "disagrees"


def finding_verdicts(
    table: pd.DataFrame, profile: str, dataset: str, findings: list[dict[str, Any]] | None = None
) -> pd.DataFrame:
    """One line per comparison a paper finding makes: both means, the difference, the verdict.

    Runs of one seed share their data (the synthetic set is generated from the seed; a real set's
    protocol split is fixed), so two rows with the same seeds are compared pair by pair.
    """
    points = ablation_points(table, profile, dataset).drop_duplicates(["row", "seed"])
    values = {
        row: dict(zip(group["seed"], group[METRIC], strict=True))
        for row, group in points.groupby("row")
    }
    lines = []
    for item in findings if findings is not None else load_findings():
        by_seed = values.get(item["better"], {})
        for row in item["worse"]:
            other = values.get(row, {})
            paired = set(by_seed) == set(other)
            seeds = sorted(by_seed) if paired else None
            better = [by_seed[k] for k in seeds] if paired else list(by_seed.values())
            worse = [other[k] for k in seeds] if paired else list(other.values())
            lines.append(
                {
                    "finding": item["finding"],
                    "comparison": f"{item['better']} > {row}",
                    f"{METRIC} better": mean(better),
                    f"{METRIC} worse": mean(worse),
                    "difference": mean(better) - mean(worse),
                    "seeds": f"{len(better)} vs {len(worse)}",
                    "test": "paired" if paired else "Welch",
                    "verdict": verdict(better, worse, paired=paired),
                }
            )
    return pd.DataFrame(lines)


def mean(values: Sequence[float]) -> float:
    """The mean of ``values``; NaN for none."""
    return sum(values) / len(values) if len(values) else math.nan


def verdict_summary(verdicts: pd.DataFrame) -> str:
    """A sentence counting the verdicts and naming the comparisons that agree or disagree."""
    if verdicts.empty:
        return "no comparison could be made"
    parts = []
    for kind in ("agrees", "disagrees"):
        names = verdicts.loc[verdicts["verdict"] == kind, "comparison"].tolist()
        if names:
            parts.append(f"{len(names)} {kind.rstrip('s')} ({', '.join(names)})")
        else:
            parts.append(f"none {kind.rstrip('s')}")
    unclear = int((verdicts["verdict"] == "no clear difference").sum())
    unjudged = (
        len(verdicts) - unclear - int(verdicts["verdict"].isin(["agrees", "disagrees"]).sum())
    )
    parts.append(f"{unclear} show no clear difference")
    parts.append(f"{unjudged} cannot be judged yet (not run, or one seed)")
    return f"of {len(verdicts)} comparisons, " + ", ".join(parts)
