"""Regenerate the results files behind the book's tables: ``python -m tools.sweep``.

::

    python -m tools.sweep run --profile cpu [--dataset viper] [--rows baseline full ...]
                              [--seeds 0 1 2] [--splits 0 1 2] [--shard 0/4] [--hours 1.5]
                              [--results-dir results] [--set k=v ...]
    python -m tools.sweep transfer --profile cpu --train synthetic --test viper grid ...
                              [--rows ...] [--seeds ...] [--splits 0] [--runs-dir runs]
    python -m tools.sweep knobs --profile cpu [--rows ...] [--seeds 0] [--level 1.0]
    python -m tools.sweep figures --profile cpu --dataset viper --rows full [--seeds 0]
                              [--splits 0] [--runs-dir runs]
    python -m tools.sweep joint --profile cpu [--rows baseline full] [--seeds 1] [--splits 0 1]
                              [--sets viper grid ...] [--hours 1.5]
    python -m tools.sweep adapt-bn --profile cpu --dataset joint [--rows baseline] [--splits 0 1 2]
    python -m tools.sweep train-split --profile cpu --dataset viper --rows baseline-24-epochs
    python -m tools.sweep all --profile cpu [--hours 1.5]
    python -m tools.sweep plan --profile full       (what ``all`` would train: runs and epochs)
    python -m tools.sweep merge RUNNER_DIR ... --into results

``run`` trains the study rows (``reid_lib/studies/ablations.yaml``) per seed
(``reid_lib.studies.sweep``); a real dataset is read from ``$REID_DATA_ROOT/<its folder>`` unless
``--set data.root=...`` says otherwise. ``transfer`` and ``knobs`` evaluate trained runs on other
test sets (``reid_lib.studies.test_sets``). ``joint`` trains rows on the union of the training
splits of several small real sets and tests each run on each set, on the split it trained on.
``adapt-bn`` tests trained runs (joint ones on each set, the others on their own) again after AdaBN,
adding ``single_query_adabn`` to their results files; ``train-split`` ranks their training split
among itself (how well they fit the people they trained on), adding ``train_split``. ``figures``
writes the figure data of trained runs (``reid_lib.engine.figure_data``: activation maps,
attention, part weights, ranked lists and loss curves) next to the results files. ``all`` runs
every step behind the book's tables (``reid_lib.studies.steps.book_steps``): what ``make results
PROFILE=cpu`` does; ``plan`` lists the same steps with the number of training runs and epochs each
costs, training nothing. ``merge`` combines the results trees of several runners, refusing two
different files at the same path.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from reid_lib.book.paths import COMMITTED
from reid_lib.data.factory import has_protocol_splits
from reid_lib.data.synthetic_people import KNOBS
from reid_lib.engine import DATA_ROOT_ENV
from reid_lib.engine.results import results_path
from reid_lib.errors import run_reported
from reid_lib.models.names import CLOSED_FORM
from reid_lib.studies import (
    COMPARED_ROWS,
    TESTED_AGAIN,
    PlannedRun,
    Step,
    available_real_sets,
    book_steps,
    evaluate_runs,
    get_profile,
    joint_test_sets,
    knob_test_sets,
    load_rows,
    merge_trees,
    parse_shard,
    plan_runs,
    row_config,
    run_step,
    run_sweep,
    shard,
    skipped_rows,
    study_rows,
    transfer_test_sets,
    write_run_figures,
)
from reid_lib.studies.cost import estimate_seconds, run_seconds
from reid_lib.studies.profiles import PROFILES
from tools import committed_runs

#: The help of the --rows of the commands that train or evaluate study rows.
ROWS_HELP = "rows of ablations.yaml (default: every study's; the joint diagnosis's only if named)"
#: The help of every --profile: the profiles, from the code (each is an engine preset too).
PROFILE_HELP = f"one of {', '.join(PROFILES)} (an engine preset)"


def _add_joint_runs(sub: argparse.ArgumentParser, rows: Sequence[str], sets: str) -> None:
    """The options that pick the runs of a ``joint``, ``adapt-bn`` or ``train-split`` command."""
    sub.add_argument("--rows", nargs="+", metavar="ROW", default=list(rows))
    sub.add_argument("--seeds", nargs="+", type=int, help="default: the profile's real-set seed")
    sub.add_argument("--splits", nargs="+", type=int, help="default: the profile's splits")
    sub.add_argument("--sets", nargs="+", metavar="DATASET", help=f"default: {sets}")
    sub.add_argument("--runs-dir", type=Path, default=Path("runs"), help="checkpoints")
    sub.add_argument("--results-dir", type=Path, default=Path("results"))


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m tools.sweep`` argument parser."""
    parser = argparse.ArgumentParser(prog="python -m tools.sweep", description=__doc__)
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="train the study rows that have no results file")
    run.add_argument("--profile", required=True, choices=list(PROFILES), help=PROFILE_HELP)
    run.add_argument("--dataset", help="dataset name (default: the preset's)")
    run.add_argument(
        "--rows",
        nargs="+",
        metavar="ROW",
        help=ROWS_HELP,
    )
    run.add_argument("--seeds", nargs="+", type=int, help="default: the profile's seeds")
    run.add_argument(
        "--splits",
        nargs="+",
        type=int,
        help="protocol splits of a real set (default: the profile's; none for synthetic)",
    )
    run.add_argument("--shard", default="0/1", metavar="i/n", help="take shard i of n (0-based)")
    run.add_argument("--results-dir", type=Path, default=Path("results"))
    run.add_argument("--hours", type=float, help="start no run after this many hours")
    run.add_argument(
        "--set",
        action="append",
        default=[],
        dest="overrides",
        metavar="key.sub=value",
        help="a config override for every run (repeatable), e.g. --set data.root=peta-reid/VIPeR",
    )
    for command, text in (
        ("transfer", "evaluate trained runs on other datasets"),
        ("knobs", "evaluate synthetic-trained runs with one nuisance knob turned up"),
        ("figures", "write the figure data of trained runs next to their results files"),
    ):
        sub = commands.add_parser(command, help=text)
        sub.add_argument("--profile", required=True, choices=list(PROFILES), help=PROFILE_HELP)
        sub.add_argument("--rows", nargs="+", metavar="ROW", help=ROWS_HELP)
        sub.add_argument("--seeds", nargs="+", type=int, default=[0])
        sub.add_argument(
            "--splits",
            nargs="+",
            type=int,
            help="the trained runs' splits (default: 0 on a real set)",
        )
        sub.add_argument("--runs-dir", type=Path, default=Path("runs"), help="checkpoints")
        sub.add_argument("--results-dir", type=Path, default=Path("results"))
        if command == "transfer":
            sub.add_argument("--train", required=True, help="the dataset the runs trained on")
            sub.add_argument("--test", nargs="+", required=True, help="datasets to test on")
        elif command == "knobs":
            sub.add_argument("--level", type=float, default=1.0, help="knob strength, (0, 1]")
            sub.add_argument("--knobs", nargs="+", metavar="KNOB", help=f"default: {KNOBS}")
        else:
            sub.add_argument(
                "--dataset", help="the dataset the runs trained on (default: preset's)"
            )
    joint = commands.add_parser(
        "joint", help="train on several small real sets at once, then test on each"
    )
    joint.add_argument(
        "--profile",
        required=True,
        choices=list(PROFILES),
        help=f"{PROFILE_HELP}; one that trains on real sets (cpu)",
    )
    _add_joint_runs(joint, COMPARED_ROWS, "the small real sets at hand")
    joint.add_argument("--hours", type=float, help="start no training run after this many hours")
    tested_again = {
        "adapt-bn": "test trained runs again after re-estimating their batch-norm statistics on "
        "each test set's training images (AdaBN)",
        "train-split": "rank each trained run's training split among itself: how well it fits "
        "the people it trained on",
    }
    for command in TESTED_AGAIN:
        again = commands.add_parser(command, help=tested_again[command])
        again.add_argument("--profile", required=True, choices=list(PROFILES), help=PROFILE_HELP)
        again.add_argument(
            "--dataset", required=True, help="where the runs trained: joint, or a small real set"
        )
        _add_joint_runs(again, ("baseline",), "a joint run's: the small real sets at hand")
    every = commands.add_parser("all", help="every step behind the book's tables (book_steps)")
    every.add_argument("--profile", required=True, choices=list(PROFILES), help=PROFILE_HELP)
    every.add_argument("--runs-dir", type=Path, default=Path("runs"), help="checkpoints")
    every.add_argument("--results-dir", type=Path, default=Path("results"))
    every.add_argument(
        "--hours",
        type=float,
        help="start no training run after this many hours (stop between runs; run again to go on)",
    )
    plan = commands.add_parser("plan", help="the steps of 'all', with the training they cost")
    plan.add_argument("--profile", required=True, choices=list(PROFILES), help=PROFILE_HELP)
    plan.add_argument("--results-dir", type=Path, default=Path("results"))
    merge = commands.add_parser("merge", help="combine the results trees of several runners")
    merge.add_argument("sources", nargs="+", type=Path)
    merge.add_argument("--into", type=Path, default=Path("results"))
    return parser


def training_runs(step: Step, profile: str) -> list[tuple[PlannedRun, int]]:
    """``(run, epochs)`` of each run of ``step`` (none for an evaluation step; 0 epochs for the
    models no optimiser trains)."""
    if step.command not in ("run", "joint"):
        return []
    skipped = skipped_rows(profile, step.dataset)
    runs = []
    for run in plan_runs(load_rows(), step.rows, step.seeds, step.splits):
        if run.row not in skipped:
            cfg = row_config(profile, run.overrides, step.dataset)
            runs.append((run, 0 if cfg.model.arch in CLOSED_FORM else cfg.schedule.epochs))
    return runs


def _print_plan(profile: str, results_dir: Path) -> None:
    """The steps of ``all`` under ``profile``: runs, epochs, runs done and the hours left."""
    timings = run_seconds(results_dir, profile)
    total = epochs = done = unknown = 0
    seconds = 0.0
    planned: set[tuple[str, str]] = set()  # a run planned by an earlier step is not counted
    for step in book_steps(profile, _real_sets()):
        runs = [r for r in training_runs(step, profile) if (step.dataset, r[0].name) not in planned]
        planned.update((step.dataset, run.name) for run, _ in runs)
        total, epochs = total + len(runs), epochs + sum(e for _, e in runs)
        left = [run for run, _ in runs if not _has_results(step, run, results_dir, profile)]
        done += len(runs) - len(left)
        estimates = [estimate_seconds(timings, step.dataset, run.row) for run in left]
        step_seconds = sum(e for e in estimates if e is not None)
        seconds += step_seconds
        unknown += sum(e is None for e in estimates)
        where = f" -> {', '.join(step.tests)}" if step.tests else ""
        print(
            f"{step.command} {step.dataset}{where}: {len(runs)} training run(s), "
            f"{len(runs) - len(left)} done, about {step_seconds / 3600:.1f} h left"
        )
    print(f"{profile}: {total} training runs, {epochs} epochs in all; {done} done")
    unestimated = f"; {unknown} run(s) without an estimate" if unknown else ""
    print(
        f"about {seconds / 3600:.1f} hours left on a machine like the one that made the results "
        f"files under {results_dir} (each run estimated by the median wall time of its row and "
        f"dataset there, else of its dataset){unestimated}"
    )


def _has_results(step: Step, run: PlannedRun, results_dir: Path, profile: str) -> bool:
    """Whether ``run`` of the training ``step`` has its results file: a joint run's, on the first
    set it is tested on."""
    if step.command == "joint":
        (first,) = joint_test_sets(step.tests[:1])
        return results_path(
            results_dir, profile, first.dataset, first.result_name(run.name)
        ).is_file()
    return results_path(results_dir, profile, step.dataset, run.name).is_file()


def _real_sets() -> list[str]:
    env = os.environ.get(DATA_ROOT_ENV)
    return available_real_sets(Path(env) if env else None)


def _splits(
    dataset: str, asked: Sequence[int] | None, default: Sequence[int]
) -> tuple[int | None, ...]:
    """The protocol splits to plan on ``dataset``: ``(None,)`` for one without splits.

    Raises:
        ValueError: ``--splits`` given for a dataset that has none.
    """
    if not has_protocol_splits(dataset):
        if asked:
            raise ValueError(f"--splits: dataset {dataset!r} has no protocol splits")
        return (None,)
    return tuple(asked or default)


def _deadline(hours: float | None) -> float | None:
    """The ``time.monotonic()`` after which no run starts (None: no limit)."""
    return None if hours is None else time.monotonic() + 3600 * hours


def _run(args: argparse.Namespace) -> None:
    if args.command in ("run", "transfer", "knobs", "figures") and not args.rows:
        args.rows = list(study_rows())  # the joint diagnosis's rows only when named
    if args.command == "merge":
        copied = merge_trees(args.sources, args.into)
        print(f"merged {len(copied)} new file(s) into {args.into}")
        if args.into.resolve() == COMMITTED.resolve():
            committed_runs.main([])
    elif args.command in ("transfer", "knobs"):
        transfer = args.command == "transfer"
        train_dataset = args.train if transfer else "synthetic"
        splits = _splits(train_dataset, args.splits, (0,))
        evaluate_runs(
            plan_runs(load_rows(), args.rows, args.seeds, splits),
            transfer_test_sets(args.train, args.test)
            if transfer
            else knob_test_sets(args.level, args.knobs),
            profile=args.profile,
            train_dataset=train_dataset,
            runs_dir=args.runs_dir,
            results_dir=args.results_dir,
        )
    elif args.command == "figures":
        dataset = args.dataset or row_config(args.profile, []).data.dataset
        write_run_figures(
            plan_runs(load_rows(), args.rows, args.seeds, _splits(dataset, args.splits, (0,))),
            profile=args.profile,
            dataset=dataset,
            runs_dir=args.runs_dir,
            results_dir=args.results_dir,
        )
    elif args.command == "plan":
        _print_plan(args.profile, args.results_dir)
    elif args.command == "joint":
        settings = get_profile(args.profile)
        sets = tuple(args.sets or _real_sets())
        if len(set(sets)) < 2 or len(set(sets)) < len(sets):
            raise ValueError(
                f"--sets {list(sets)}: expected two or more distinct small real sets"
                f" (or {DATA_ROOT_ENV} with them)"
            )
        step = Step(
            "joint",
            "joint",
            tuple(args.rows),
            tuple(args.seeds or (settings.real_seed,)),
            sets,
            tuple(args.splits or settings.splits),
        )
        run_step(
            step,
            profile=args.profile,
            results_dir=args.results_dir,
            runs_dir=args.runs_dir,
            deadline=_deadline(args.hours),
        )
    elif args.command in TESTED_AGAIN:
        settings = get_profile(args.profile)
        joint = args.dataset == "joint"
        step = Step(
            args.command,
            args.dataset,
            tuple(args.rows),
            tuple(args.seeds or (settings.real_seed,)),
            tuple(args.sets or _real_sets()) if joint else (args.dataset,),
            tuple(args.splits or settings.splits),
        )
        run_step(step, profile=args.profile, results_dir=args.results_dir, runs_dir=args.runs_dir)
    elif args.command == "all":
        deadline = _deadline(args.hours)
        for step in book_steps(args.profile, _real_sets()):
            if deadline is not None and time.monotonic() >= deadline:
                print(f"stop before {step}: the time budget is spent")
                break
            print(f"== {step}")
            run_step(
                step,
                profile=args.profile,
                results_dir=args.results_dir,
                runs_dir=args.runs_dir,
                deadline=deadline,
            )
    else:
        settings = get_profile(args.profile)
        dataset = args.dataset or row_config(args.profile, []).data.dataset
        splits = _splits(dataset, args.splits, settings.splits)
        # As book_steps: a real set's runs vary the split, each with the profile's real_seed.
        seeds = args.seeds or (settings.seeds if splits == (None,) else (settings.real_seed,))
        runs = shard(plan_runs(load_rows(), args.rows, seeds, splits), *parse_shard(args.shard))
        run_sweep(
            runs,
            profile=args.profile,
            results_dir=args.results_dir,
            dataset=args.dataset,
            extra=args.overrides,
            deadline=_deadline(args.hours),
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m tools.sweep``."""
    args = build_parser().parse_args(argv)
    # The library reports each run it trains or skips through logging; the command shows it.
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout, force=True)

    def run() -> int:
        _run(args)
        return 0

    return run_reported("python -m tools.sweep", run, debug=args.debug)


if __name__ == "__main__":
    sys.exit(main())
