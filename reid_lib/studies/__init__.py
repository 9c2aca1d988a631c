"""The book's studies: the rows of the paper's ablations, the sweep that trains them, and the
evaluations of trained runs on other test sets.

``profiles`` says what each profile runs; ``ablations.yaml`` (beside this file) defines the rows
and studies; ``rows`` reads it and builds
each row's config; ``sweep`` trains rows per seed (resumable, shardable); ``test_sets`` evaluates
trained runs on other datasets and synthetic knob settings; ``steps`` lists everything behind the
book's tables. The command line is ``python -m tools.sweep``.
"""

from reid_lib.lazy_exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "write_run_figures": "figures",
        "get_profile": "profiles",
        "Profile": "profiles",
        "PROFILES": "profiles",
        "ABLATIONS": "rows",
        "COMPARED_ROWS": "rows",
        "CORE_ROWS": "rows",
        "equivalent_rows": "rows",
        "infeasible_rows": "rows",
        "load_rows": "rows",
        "load_studies": "rows",
        "MULTI_QUERY_DATASETS": "rows",
        "real_root": "rows",
        "row_config": "rows",
        "study_rows": "rows",
        "available_real_sets": "steps",
        "book_steps": "steps",
        "run_step": "steps",
        "Step": "steps",
        "TESTED_AGAIN": "steps",
        "merge_trees": "sweep",
        "parse_shard": "sweep",
        "plan_runs": "sweep",
        "PlannedRun": "sweep",
        "run_sweep": "sweep",
        "shard": "sweep",
        "skipped_rows": "sweep",
        "evaluate_runs": "test_sets",
        "joint_test_sets": "test_sets",
        "knob_settings": "test_sets",
        "knob_test_sets": "test_sets",
        "own_test_set": "test_sets",
        "TestSet": "test_sets",
        "transfer_test_sets": "test_sets",
        "with_variant": "test_sets",
    },
)
