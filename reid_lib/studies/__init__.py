"""The book's studies: the rows of the paper's ablations, the sweep that trains them, and the
evaluations of trained runs on other test sets.

``profiles`` says what each profile runs; ``ablations.yaml`` (beside this file) defines the rows
and studies; ``rows`` reads it and builds
each row's config; ``sweep`` trains rows per seed (resumable, shardable); ``test_sets`` evaluates
trained runs on other datasets and synthetic knob settings; ``steps`` lists everything behind the
book's tables. The command line is ``python -m tools.sweep``.
"""

from reid_lib.studies.figures import write_run_figures
from reid_lib.studies.profiles import PROFILES, Profile, get_profile
from reid_lib.studies.rows import (
    ABLATIONS,
    COMPARED_ROWS,
    CORE_ROWS,
    MULTI_QUERY_DATASETS,
    equivalent_rows,
    infeasible_rows,
    load_rows,
    load_studies,
    real_root,
    row_config,
)
from reid_lib.studies.steps import Step, available_real_sets, book_steps, run_step
from reid_lib.studies.sweep import (
    PlannedRun,
    merge_trees,
    parse_shard,
    plan_runs,
    run_sweep,
    shard,
    skipped_rows,
)
from reid_lib.studies.test_sets import (
    TestSet,
    evaluate_runs,
    knob_settings,
    knob_test_sets,
    transfer_test_sets,
)

__all__ = [
    "ABLATIONS",
    "COMPARED_ROWS",
    "CORE_ROWS",
    "MULTI_QUERY_DATASETS",
    "PROFILES",
    "PlannedRun",
    "Profile",
    "Step",
    "TestSet",
    "available_real_sets",
    "book_steps",
    "equivalent_rows",
    "evaluate_runs",
    "get_profile",
    "infeasible_rows",
    "knob_settings",
    "knob_test_sets",
    "load_rows",
    "load_studies",
    "merge_trees",
    "parse_shard",
    "plan_runs",
    "real_root",
    "row_config",
    "run_step",
    "run_sweep",
    "shard",
    "skipped_rows",
    "transfer_test_sets",
    "write_run_figures",
]
