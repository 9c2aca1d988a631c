"""What the paper states beside what we measured: its one reported result, and the large
benchmarks grid of the ``full`` profile (``paper_reported.yaml`` beside this file)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from reid_lib.reports.ablation import SHOWN_METRICS, ablation_runs
from reid_lib.reports.records import NOT_REPRODUCED, results_table
from reid_lib.strict_yaml import read_yaml

PAPER_REPORTED = Path(__file__).resolve().parent / "paper_reported.yaml"
#: The large benchmarks of the paper and the evaluation variants the ``full`` profile reports.
LARGE_DATASETS = ("market1501", "dukemtmc_reid", "msmt17")
FULL_VARIANTS = ("single_query", "single_query_rerank", "multi_query", "multi_query_rerank")


def _full_runs(table: pd.DataFrame, variant: str, dataset: str, row: str) -> pd.DataFrame:
    """The ``full``-profile runs of ``row`` on ``dataset`` that have ``variant``."""
    runs = ablation_runs(table[table["variant"] == variant])
    keep = (runs["profile"] == "full") & (runs["dataset"] == dataset) & (runs["row"] == row)
    return runs[keep]


def paper_claims(results_root: Path, paper_file: Path = PAPER_REPORTED) -> pd.DataFrame:
    """The paper's stated numbers beside ours, from the ``full``-profile results files.

    A claim (``dataset``, evaluation ``variant``, study ``row``) is matched by every ``full``
    results file of that row trained and tested on that dataset that has the variant. Ours is the
    mean over those files (their seeds), in percent; NaN and "not yet reproduced" when none.
    """
    table, lines = results_table([results_root], variant=None), []
    for claim in read_yaml(paper_file):
        mine = _full_runs(table, claim["variant"], claim["dataset"], claim["row"])
        for metric, value in claim["metrics"].items():
            lines.append(
                {
                    "dataset": claim["dataset"],
                    "setting": claim["setting"],
                    "metric": metric,
                    "paper (%)": value,
                    "ours (%)": mine[metric].mean() if len(mine) else math.nan,
                    "status": f"{len(mine)} result file(s)" if len(mine) else NOT_REPRODUCED,
                }
            )
    return pd.DataFrame(lines)


def large_benchmark_table(table_roots: Sequence[Path], paper: pd.DataFrame) -> pd.DataFrame:
    """The ``full``-profile grid: dataset x variant, our R1 and mAP or "not yet reproduced".

    ``paper`` is :func:`paper_claims`; its numbers sit beside ours where it has one.
    """
    table = results_table(table_roots, variant=None)
    lines = []
    for dataset in LARGE_DATASETS:
        for variant in FULL_VARIANTS:
            if variant.startswith("multi_query") and dataset != "market1501":
                continue
            mine = _full_runs(table, variant, dataset, "full")
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
    """The ``setting`` text of ``paper_reported.yaml`` for a results variant."""
    query = "multi-query" if variant.startswith("multi_query") else "single-query"
    return f"{query}, {'with' if variant.endswith('rerank') else 'no'} re-ranking"
