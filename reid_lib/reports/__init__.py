"""The book's tables and claims, built only from results files.

``records`` reads the files into one table whose columns are their structured run fields;
``ablation`` makes the study tables; ``verdicts`` judges the paper's findings
(``paper_findings.yaml``); ``comparisons`` the transfer and knob tables; ``paper`` sets the
paper's stated numbers (``paper_reported.yaml``) beside ours; ``glue`` gives the numbers the
prose cites and checks them against the files; ``display`` shows a table as the book does.
"""

from reid_lib.reports.ablation import (
    NOT_RUN,
    SHOWN_METRICS,
    ablation_points,
    ablation_runs,
    ablation_table,
    per_dataset_table,
    rows_without_runs,
)
from reid_lib.reports.comparisons import knob_table, knob_winners, transfer_table
from reid_lib.reports.display import MISSING, styled, with_intervals
from reid_lib.reports.glue import (
    book_numbers,
    check_claims,
    glue_book_numbers,
    glue_name,
    glued_numbers,
)
from reid_lib.reports.gpu_times import gpu_run_times
from reid_lib.reports.paper import LARGE_DATASETS, large_benchmark_table, paper_claims
from reid_lib.reports.protocols import (
    FLOOR_ROW,
    LOMO_XQDA_ROW,
    gap_table,
    joint_table,
    protocol_table,
)
from reid_lib.reports.records import (
    IDENTITY,
    NOT_REPRODUCED,
    chapter_overview,
    collect_results,
    load_result_files,
    provenance_line,
    results_table,
    seed_spread,
    shown,
)
from reid_lib.reports.verdicts import (
    METRIC,
    NO_RUNS,
    Difference,
    chance_table,
    compare_rows,
    difference,
    finding_verdicts,
    findings_table,
    load_findings,
    verdict,
    verdict_summary,
)

__all__ = [
    "FLOOR_ROW",
    "IDENTITY",
    "LARGE_DATASETS",
    "LOMO_XQDA_ROW",
    "METRIC",
    "MISSING",
    "NOT_REPRODUCED",
    "NOT_RUN",
    "NO_RUNS",
    "SHOWN_METRICS",
    "Difference",
    "ablation_points",
    "ablation_runs",
    "ablation_table",
    "book_numbers",
    "chance_table",
    "chapter_overview",
    "check_claims",
    "collect_results",
    "compare_rows",
    "difference",
    "finding_verdicts",
    "findings_table",
    "gap_table",
    "glue_book_numbers",
    "glue_name",
    "glued_numbers",
    "gpu_run_times",
    "joint_table",
    "knob_table",
    "knob_winners",
    "large_benchmark_table",
    "load_findings",
    "load_result_files",
    "paper_claims",
    "per_dataset_table",
    "protocol_table",
    "provenance_line",
    "results_table",
    "rows_without_runs",
    "seed_spread",
    "shown",
    "styled",
    "transfer_table",
    "verdict",
    "verdict_summary",
    "with_intervals",
]
