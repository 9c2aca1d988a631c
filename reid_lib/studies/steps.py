"""Every step behind the book's tables under a profile: what ``make results`` carries out.

A :class:`Step` trains study rows on a dataset (``run``, ``joint``), evaluates trained runs
elsewhere (``transfer``, ``knobs``) or tests them again on their own test sets, after AdaBN
(``adapt-bn``) or on their training split (``train-split``); :func:`book_steps` lists them for a
profile and :func:`run_step` carries one out.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reid_lib.data.registry import SMALL_REAL_SETS
from reid_lib.studies.profiles import get_profile
from reid_lib.studies.rows import (
    COMPARED_ROWS,
    COMPARISON_STUDY,
    CORE_ROWS,
    DIAGNOSIS_ROWS,
    DIAGNOSIS_SPLITS,
    FIT_MODELS,
    LONGER_ROW,
    PRIORITY_ROWS,
    SET_BATCHES_ROW,
    SET_SOFTMAX_ROW,
    load_rows,
    load_studies,
    real_root,
    real_set_rows,
    study_rows,
)
from reid_lib.studies.sweep import plan_runs, run_sweep
from reid_lib.studies.test_sets import (
    evaluate_runs,
    joint_test_sets,
    knob_test_sets,
    own_test_set,
    transfer_test_sets,
    with_variant,
)

log = logging.getLogger(__name__)

#: The commands that test trained runs again on their own test sets, and the variant each adds
#: to their results files (:func:`~reid_lib.studies.test_sets.with_variant`).
TESTED_AGAIN = {"adapt-bn": "single_query_adabn", "train-split": "train_split"}
COMMANDS = ("run", "joint", "transfer", "knobs", *TESTED_AGAIN)


@dataclass(frozen=True)
class Step:
    """One command of the book's plan: ``run`` (train), ``joint`` (train on several sets at once,
    then test on each), ``transfer`` or ``knobs`` (evaluate), ``adapt-bn`` (test again after
    AdaBN), ``train-split`` (rank the training split among itself: how well the run fits it).

    ``dataset`` is where the runs train, on each of ``splits`` (``(None,)`` for a dataset
    without protocol splits); ``tests`` the datasets a ``transfer`` tests on, or that a ``joint``
    step trains on together and tests on one by one; an ``adapt-bn`` or ``train-split`` step
    tests a joint run on each of them, a run on a small real set on its own.
    """

    command: str
    dataset: str
    rows: tuple[str, ...] | None
    seeds: tuple[int, ...]
    tests: tuple[str, ...] = ()
    splits: tuple[int | None, ...] = (None,)


def available_real_sets(data_root: Path | None) -> list[str]:
    """The small real benchmarks whose folder exists under ``data_root`` (none for None).

    Raises:
        NotADirectoryError: ``data_root`` is given but is not a folder (a file, or nothing).
    """
    if data_root is None:
        return []
    if not Path(data_root).is_dir():
        raise NotADirectoryError(
            f"data root {data_root}: expected a folder holding the small real sets "
            f"({', '.join(f'{folder}/' for folder in SMALL_REAL_SETS.values())}); it is "
            f"{'a file' if Path(data_root).exists() else 'not there'}"
        )
    return [name for name, folder in SMALL_REAL_SETS.items() if (Path(data_root) / folder).is_dir()]


def book_steps(profile: str, real: Sequence[str] = ()) -> list[Step]:
    """Every step behind the book's tables under ``profile``, given the real sets at hand.

    With the large benchmarks (``full``): every study's rows
    (:func:`~reid_lib.studies.rows.study_rows`) on Market-1501, the full model on DukeMTMC-reID
    and MSMT17. Otherwise, in the order a sweep that is stopped part-way should have reached:

    1. the floor, LOMO + XQDA and the core study's rows on each small real set, on the profile's
       ``core_splits``;
    2. the other rows of the comparison study (:data:`~reid_lib.studies.rows.COMPARISON_STUDY`)
       on each small real set, on the profile's ``splits``, then its rows on the synthetic set
       with every seed;
    3. baseline and full trained jointly on the small real sets, each tested on its own split,
       and the joint-training diagnosis on the first
       :data:`~reid_lib.studies.rows.DIAGNOSIS_SPLITS` splits (the baseline trained jointly with
       batches from one set; both, and the baseline trained alone, tested after AdaBN too; the
       baseline trained for 24 epochs, jointly and on each set alone, and jointly with a per-set
       softmax; the last and the 24-epoch baseline alone tested on their training split too),
       ahead of the next step because it costs a fraction of it (``tools.sweep plan`` gives
       both costs);
    4. the floor, baseline and full model on the synthetic set with the profile's
       ``priority_seeds``, then every other study's rows there with every seed;
    5. the other rows of the real sets' studies (:func:`~reid_lib.studies.rows.real_set_rows`)
       on the profile's ``splits``;
    6. the knob study of the core rows; transfer from the synthetic set and from VIPeR's first
       split.

    Every run on a real set has the profile's ``real_seed``. A profile that does not train on
    the real sets (``smoke``) only tests on them. What each profile does is
    :data:`~reid_lib.studies.profiles.PROFILES`.
    """
    settings = get_profile(profile)
    seeds = settings.seeds
    if settings.large_benchmarks:
        return [
            Step("run", "market1501", study_rows(), seeds),
            Step("run", "dukemtmc_reid", ("full",), seeds),
            Step("run", "msmt17", ("full",), seeds),
        ]
    first, splits, real_seed = seeds[:1], settings.splits, (settings.real_seed,)
    trained = list(real) if settings.trains_on_real_sets else []
    core = tuple(dict.fromkeys([*PRIORITY_ROWS, *CORE_ROWS]))
    compared = tuple(load_studies()[COMPARISON_STUDY])
    compared_later = tuple(row for row in compared if row not in core)
    later = tuple(row for row in real_set_rows() if row not in (*core, *compared))
    steps = [Step("run", name, core, real_seed, splits=settings.core_splits) for name in trained]
    steps += [Step("run", name, compared_later, real_seed, splits=splits) for name in trained]
    steps.append(Step("run", "synthetic", compared, seeds))
    if len(trained) > 1:
        steps.append(Step("joint", "joint", COMPARED_ROWS, real_seed, tuple(trained), splits))
        first_splits = splits[:DIAGNOSIS_SPLITS]
        steps += [
            Step("joint", "joint", (SET_BATCHES_ROW,), real_seed, tuple(trained), first_splits),
            Step("adapt-bn", "joint", DIAGNOSIS_ROWS, real_seed, tuple(trained), first_splits),
            *(
                Step("adapt-bn", name, ("baseline",), real_seed, (name,), first_splits)
                for name in trained
            ),
            Step("joint", "joint", (LONGER_ROW,), real_seed, tuple(trained), first_splits),
            Step("adapt-bn", "joint", (LONGER_ROW,), real_seed, tuple(trained), first_splits),
            *(Step("run", name, (LONGER_ROW,), real_seed, splits=first_splits) for name in trained),
            Step("joint", "joint", (SET_SOFTMAX_ROW,), real_seed, tuple(trained), first_splits),
        ]
        for row, joint in FIT_MODELS:
            where = [("joint", tuple(trained))] if joint else [(name, (name,)) for name in trained]
            steps += [
                Step("train-split", dataset, (row,), real_seed, tests, first_splits)
                for dataset, tests in where
            ]
    if settings.priority_seeds != seeds:
        steps.append(Step("run", "synthetic", PRIORITY_ROWS, settings.priority_seeds))
    others = tuple(row for row in study_rows() if row not in compared)
    steps.append(Step("run", "synthetic", others, seeds))
    steps += [Step("run", name, later, real_seed, splits=splits) for name in trained]
    steps.append(Step("knobs", "synthetic", CORE_ROWS, first))
    if real:
        steps.append(Step("transfer", "synthetic", COMPARED_ROWS, first, tuple(real)))
    if "viper" in trained:
        others = ("synthetic", *(name for name in real if name != "viper"))
        steps.append(Step("transfer", "viper", COMPARED_ROWS, real_seed, others, splits[:1]))
    return steps


def run_step(
    step: Step,
    *,
    profile: str,
    results_dir: Path,
    runs_dir: Path = Path("runs"),
    data_root: Path | None = None,
    extra: Sequence[str] = (),
    level: float = 1.0,
    deadline: float | None = None,
) -> list[Path]:
    """Carry out one :class:`Step`; return the results files written.

    ``extra`` overrides go to every training run (``run``); ``data_root`` replaces
    ``$REID_DATA_ROOT`` for the real sets; no training starts after ``deadline``
    (``time.monotonic()``, see :func:`~reid_lib.studies.sweep.run_sweep`).

    Raises:
        ValueError: a step whose command is not one of :data:`COMMANDS`.
    """
    runs = plan_runs(load_rows(), step.rows, step.seeds, step.splits)
    tested = {
        "profile": profile,
        "train_dataset": step.dataset,
        "runs_dir": runs_dir,
        "results_dir": results_dir,
    }
    if step.command in ("run", "joint"):
        roots = []
        if data_root is not None and step.dataset != "synthetic":
            roots = [f"data.root={real_root(step.dataset, data_root)}"]
        joint_sets = []
        if step.command == "joint":  # a joint run trains on the sets it is tested on
            joint_sets = [f"data.joint_sets=[{', '.join(step.tests)}]"]
        training = {
            "profile": profile,
            "results_dir": results_dir,
            "dataset": step.dataset,
            "extra": [f"run.output_dir={runs_dir}", *roots, *joint_sets, *extra],
        }
        if step.command == "run":
            return run_sweep(runs, deadline=deadline, **training)
        # A joint run is tested as soon as it is trained: a step stopped by its deadline leaves
        # no trained run untested and tests no run that is trained part-way.
        test_sets, written = joint_test_sets(step.tests, data_root), []
        for run in runs:
            if deadline is not None and time.monotonic() >= deadline:
                log.info(f"stop before {run.name}: the time budget is spent")
                break
            run_sweep([run], **training)
            written += evaluate_runs([run], test_sets, **tested)
        return written
    if step.command in TESTED_AGAIN:
        if step.dataset == "joint":
            own = joint_test_sets(step.tests, data_root)
        else:
            own = [own_test_set(step.dataset, data_root)]
        test_sets = with_variant(own, TESTED_AGAIN[step.command])
    elif step.command == "transfer":
        test_sets = transfer_test_sets(step.dataset, step.tests, data_root)
    elif step.command == "knobs":
        test_sets = knob_test_sets(level)
    else:
        raise ValueError(f"step {step.command!r}: expected one of {COMMANDS}")
    return evaluate_runs(runs, test_sets, **tested)
