"""The book's tables and claims, built only from results files.

``records`` reads the files into one table whose columns are their structured run fields;
``ablation`` makes the study tables; ``verdicts`` judges the paper's findings
(``paper_findings.yaml``); ``comparisons`` the transfer and knob tables; ``paper`` sets the
paper's stated numbers (``paper_reported.yaml``) beside ours; ``glue`` gives the numbers the
prose cites and checks them against the files; ``reproductions`` the committed files trained
again; ``display`` shows a table as the book does.
"""

from reid_lib.lazy_exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "ablation_points": "ablation",
        "ablation_runs": "ablation",
        "ablation_table": "ablation",
        "NOT_RUN": "ablation",
        "per_dataset_table": "ablation",
        "rows_without_runs": "ablation",
        "SHOWN_METRICS": "ablation",
        "knob_table": "comparisons",
        "knob_winners": "comparisons",
        "transfer_table": "comparisons",
        "MISSING": "display",
        "styled": "display",
        "with_intervals": "display",
        "book_numbers": "glue",
        "check_claims": "glue",
        "glue_book_numbers": "glue",
        "glue_name": "glue",
        "glued_numbers": "glue",
        "gpu_run_times": "gpu_times",
        "large_benchmark_table": "paper",
        "LARGE_DATASETS": "paper",
        "paper_claims": "paper",
        "FLOOR_ROW": "protocols",
        "gap_table": "protocols",
        "diagnosis_splits": "protocols",
        "DIAGNOSIS_BUDGETS": "protocols",
        "diagnosis_summary": "protocols",
        "joint_diagnosis_table": "protocols",
        "joint_table": "protocols",
        "source_table": "protocols",
        "LOMO_XQDA_ROW": "protocols",
        "protocol_table": "protocols",
        "chapter_overview": "records",
        "collect_results": "records",
        "IDENTITY": "records",
        "load_result_files": "records",
        "NOT_REPRODUCED": "records",
        "provenance_line": "records",
        "results_table": "records",
        "seed_spread": "records",
        "shown": "records",
        "chance_table": "verdicts",
        "compare_rows": "verdicts",
        "Difference": "verdicts",
        "difference": "verdicts",
        "finding_comparisons": "verdicts",
        "finding_verdicts": "verdicts",
        "findings_table": "verdicts",
        "load_findings": "verdicts",
        "METRIC": "verdicts",
        "NO_RUNS": "verdicts",
        "power_plan": "verdicts",
        "verdict": "verdicts",
        "verdict_view": "verdicts",
        "verdict_summary": "verdicts",
        "reproductions_table": "reproductions",
        "committed_runs": "rerun",
        "rerun_command": "rerun",
        "wrapped_command": "rerun",
        "track_summary": "rerun",
    },
)
