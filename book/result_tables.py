"""The tables of the ablation, dataset and results chapters, built only from results files.

Every function reads engine results files (``<root>/<profile>/<dataset>/<run>.json``, see
``reid_lib.engine.results``) through :func:`book.status.collect_results` and returns a pandas
table; metrics are in percent. Run names say what a file is (``book/results.py`` writes them):

- ``<row>-seed<k>``: ablation row ``row`` trained and tested on the dataset of its folder;
- ``from-<train>-<row>-seed<k>``: trained on ``train``, tested on the folder's dataset;
- ``knob-<knob>-<row>-seed<k>``: trained on the synthetic set, tested on a synthetic test set
  with only ``knob`` turned up (``knob-none-...``: every knob off).

The verdicts compare seeds with a t-test, paired by seed where both rows have the same seeds (our
choice of rule; the paper reports single runs).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from scipy import stats

from book.results import NO_KNOB, equivalent_rows, infeasible_rows, load_rows, load_studies
from book.status import NOT_REPRODUCED, collect_results

PAPER_FINDINGS = Path(__file__).resolve().parent / "paper_findings.yaml"
#: The metric a verdict compares, and the two the ablation tables show.
VERDICT_METRIC = "mAP"
SHOWN_METRICS = ("rank1", "mAP")
#: Two-sided significance level of a verdict.
ALPHA = 0.05
#: The large benchmarks of the paper and the evaluation variants the ``full`` profile reports.
LARGE_DATASETS = ("market1501", "dukemtmc_reid", "msmt17")
FULL_VARIANTS = ("single_query", "single_query_rerank", "multi_query", "multi_query_rerank")
_SEED = r"-seed(?P<seed>\d+)$"
_TRANSFER = re.compile(r"^from-(?P<train>[a-z0-9_]+)-(?P<row>.+)" + _SEED)
_KNOB = re.compile(r"^knob-(?P<knob>[a-z]+)-(?P<row>.+)" + _SEED)
_ROW = re.compile(r"^(?P<row>.+)" + _SEED)


def results_table(roots: Sequence[Path], variant: str = "single_query") -> pd.DataFrame:
    """:func:`book.status.collect_results` of several roots, one evaluation variant."""
    tables = [collect_results(Path(root)) for root in roots]
    table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    return table[table["variant"] == variant].reset_index(drop=True)


def _with_row(table: pd.DataFrame, pattern: re.Pattern[str], fields: Sequence[str]) -> pd.DataFrame:
    """The rows of ``table`` whose run name matches ``pattern``, with its named groups added."""
    parsed = table["run"].str.extract(pattern)
    keep = parsed["row"].notna()
    return pd.concat([table[keep], parsed.loc[keep, list(fields)]], axis=1)


def ablation_runs(table: pd.DataFrame) -> pd.DataFrame:
    """The plain ablation runs (``<row>-seed<k>`` of a known row), with a ``row`` column."""
    plain = table[~table["run"].str.match(r"^(from|knob)-")]
    runs = _with_row(plain, _ROW, ["row"])
    return runs[runs["row"].isin(load_rows())].reset_index(drop=True)


def ablation_table(table: pd.DataFrame, profile: str, dataset: str) -> pd.DataFrame:
    """One line per study and row: seeds, mean and standard deviation of R1 and mAP.

    A row that equals an earlier row under ``profile`` (:func:`book.results.equivalent_rows`)
    shows that row's runs and names it under ``same as``; a row with no runs says why
    (:func:`book.results.infeasible_rows`, or "not yet run").
    """
    runs = ablation_runs(table)
    runs = runs[(runs["profile"] == profile) & (runs["dataset"] == dataset)]
    same = equivalent_rows(load_rows(), profile)
    infeasible = infeasible_rows(load_rows(), profile)
    lines = []
    for study, rows in load_studies().items():
        for row in rows:
            source = same.get(row, row)
            mine = runs[runs["row"] == source]
            line: dict[str, Any] = {"study": study, "row": row, "seeds": len(mine)}
            for metric in SHOWN_METRICS:
                values = mine[metric]
                line[f"{metric} mean"] = values.mean() if len(values) else math.nan
                line[f"{metric} sd"] = values.std() if len(values) > 1 else math.nan
            line["same as"] = same.get(row, "")
            line["status"] = "" if len(mine) else infeasible.get(row, "not yet run")
            lines.append(line)
    return pd.DataFrame(lines)


def ablation_points(table: pd.DataFrame, profile: str, dataset: str) -> pd.DataFrame:
    """One line per study, row and seed (long form, for plots); equal rows repeat the runs."""
    runs = ablation_runs(table)
    runs = runs[(runs["profile"] == profile) & (runs["dataset"] == dataset)]
    same = equivalent_rows(load_rows(), profile)
    parts = []
    for study, rows in load_studies().items():
        for row in rows:
            mine = runs[runs["row"] == same.get(row, row)]
            parts.append(mine.assign(study=study, row=row))
    columns = ["study", "row", "seed", *SHOWN_METRICS]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


def load_findings(path: Path = PAPER_FINDINGS) -> list[dict[str, Any]]:
    """The paper's ablation findings (``book/paper_findings.yaml``), rows checked.

    Raises:
        ValueError: a finding that names a row ``book/ablations.yaml`` lacks, or lacks a field.
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
    return "agrees" if _mean(better) > _mean(worse) else "disagrees"


def finding_verdicts(
    table: pd.DataFrame, profile: str, dataset: str, findings: list[dict[str, Any]] | None = None
) -> pd.DataFrame:
    """One line per comparison a paper finding makes: both means, the difference, the verdict.

    Runs of one seed share their data (the synthetic set is generated from the seed; a real set's
    protocol split is fixed), so two rows with the same seeds are compared pair by pair.
    """
    points = ablation_points(table, profile, dataset).drop_duplicates(["row", "seed"])
    values = {
        row: dict(zip(group["seed"], group[VERDICT_METRIC], strict=True))
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
                    f"{VERDICT_METRIC} better": _mean(better),
                    f"{VERDICT_METRIC} worse": _mean(worse),
                    "difference": _mean(better) - _mean(worse),
                    "seeds": f"{len(better)} vs {len(worse)}",
                    "test": "paired" if paired else "Welch",
                    "verdict": verdict(better, worse, paired=paired),
                }
            )
    return pd.DataFrame(lines)


def _mean(values: Sequence[float]) -> float:
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


def per_dataset_table(table: pd.DataFrame, profile: str, rows: Sequence[str]) -> pd.DataFrame:
    """Mean and seeds of R1 and mAP of ``rows`` on every dataset that has runs of them."""
    runs = ablation_runs(table)
    runs = runs[(runs["profile"] == profile) & runs["row"].isin(rows)]
    grouped = runs.groupby(["dataset", "row"])[list(SHOWN_METRICS)]
    summary = grouped.mean().join(grouped.size().rename("seeds"))
    return summary.reset_index()


def transfer_table(table: pd.DataFrame, profile: str, row: str) -> pd.DataFrame:
    """Mean ``VERDICT_METRIC`` of ``row``: one line per train dataset, one column per test dataset.

    The diagonal (train = test) comes from the plain runs, the rest from ``from-<train>-`` files.
    """
    table = table[table["profile"] == profile]
    moved = _with_row(table, _TRANSFER, ["train", "row"])
    plain = ablation_runs(table).assign(train=lambda t: t["dataset"])
    both = pd.concat([moved, plain], ignore_index=True)
    both = both[both["row"] == row]
    trained = set(moved.loc[moved["row"] == row, "train"])
    both = both[both["train"].isin(trained)]
    if both.empty:
        return pd.DataFrame()
    matrix = both.pivot_table(index="train", columns="dataset", values=VERDICT_METRIC)
    return matrix.rename_axis(index="trained on", columns="tested on")


def knob_table(table: pd.DataFrame, profile: str) -> pd.DataFrame:
    """Mean ``VERDICT_METRIC`` per row (lines) and knob test set (columns, ``none`` first)."""
    table = table[(table["profile"] == profile) & (table["dataset"] == "synthetic")]
    knobs = _with_row(table, _KNOB, ["knob", "row"])
    if knobs.empty:
        return pd.DataFrame()
    matrix = knobs.pivot_table(index="row", columns="knob", values=VERDICT_METRIC)
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


def large_benchmark_table(table_roots: Sequence[Path], paper: pd.DataFrame) -> pd.DataFrame:
    """The ``full``-profile grid: dataset x variant, our R1 and mAP or "not yet reproduced".

    ``paper`` is :func:`book.status.paper_claims`; its numbers sit beside ours where it has one.
    """
    lines = []
    for dataset in LARGE_DATASETS:
        for variant in FULL_VARIANTS:
            if variant.startswith("multi_query") and dataset != "market1501":
                continue
            runs = ablation_runs(results_table(table_roots, variant))
            mine = runs[
                (runs["profile"] == "full") & (runs["dataset"] == dataset) & (runs["row"] == "full")
            ]
            claims = paper[(paper["dataset"] == dataset) & (paper["setting"] == _setting(variant))]
            stated = dict(zip(claims["metric"], claims["paper (%)"], strict=True))
            line: dict[str, Any] = {"dataset": dataset, "variant": variant}
            for metric in SHOWN_METRICS:
                line[f"{metric} paper"] = stated.get(metric, math.nan)
                line[f"{metric} ours"] = mine[metric].mean() if len(mine) else math.nan
            line["status"] = f"{len(mine)} result file(s)" if len(mine) else NOT_REPRODUCED
            lines.append(line)
    return pd.DataFrame(lines)


def _setting(variant: str) -> str:
    """The ``setting`` text of ``book/paper_reported.yaml`` for a results variant."""
    query = "multi-query" if variant.startswith("multi_query") else "single-query"
    return f"{query}, {'with' if variant.endswith('rerank') else 'no'} re-ranking"
