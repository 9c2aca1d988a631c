"""Regenerate the results files behind the book's tables: ``python -m book.results``.

::

    python -m book.results run --profile cpu [--dataset viper] [--rows baseline full ...]
                               [--seeds 0 1 2] [--shard 0/4] [--results-dir results] [--set k=v ...]
    python -m book.results transfer --profile cpu --train synthetic --test viper grid ...
                               [--rows ...] [--seeds ...] [--runs-dir runs]
    python -m book.results knobs --profile cpu [--rows ...] [--seeds 0] [--level 1.0]
    python -m book.results all --profile cpu
    python -m book.results merge RUNNER_DIR ... --into results

``run`` trains one engine run per ablation row (``book/ablations.yaml``) and seed, named
``<row>-seed<k>``, each writing ``<results-dir>/<profile>/<dataset>/<row>-seed<k>.json``; a run
whose results file exists is skipped, so an interrupted sweep resumes, and so is a row whose config
equals an earlier row's under the profile (e.g. ``parts-4`` when the preset has 4 parts; the tables
show it with that row's numbers). A real dataset is read from ``$REID_DATA_ROOT/<its folder>``
(``book.data.dataset_folder``) unless ``--set data.root=...`` says otherwise; Market-1501 runs also
evaluate multi-query. ``--shard i/n`` keeps every n-th run from the i-th (0-based), so n runners (a
CI matrix) take disjoint runs; ``merge`` then copies their result trees into one, refusing two
different files at the same path.

``transfer`` evaluates the trained runs of one dataset on the test split of others (cross-dataset
transfer), writing ``<profile>/<test>/from-<train>-<row>-seed<k>.json``. ``knobs`` evaluates the
runs trained on the synthetic set on synthetic test sets where one nuisance knob is at ``--level``
and the others are off (plus the set with every knob off), writing
``<profile>/synthetic/knob-<knob>-<row>-seed<k>.json`` (``knob-none-...`` for all off). Both read
the checkpoints ``<runs-dir>/<profile>/<dataset>/<run>/last.pt`` that ``run`` left.

``all`` runs every step behind the book's tables under a profile (:func:`book_steps`): what
``make results PROFILE=cpu`` does. Seeds default to the profile's (:data:`DEFAULT_SEEDS`).
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from book.data import SMALL_REAL_SETS, dataset_folder
from book.paths import BUILD, COMMITTED
from reid_lib.data.synthetic_people import KNOBS
from reid_lib.engine.checkpoint import LAST
from reid_lib.engine.config import Config, load_config
from reid_lib.engine.experiment import DATA_ROOT_ENV, evaluate_checkpoint, train
from reid_lib.engine.provenance import git_state
from reid_lib.engine.results import results_path

ABLATIONS = Path(__file__).resolve().parent / "ablations.yaml"
#: Datasets whose runs also evaluate multi-query (the only one of the paper's with gt_bbox images).
MULTI_QUERY_DATASETS = ("market1501",)
#: The knob-study test set with every nuisance off.
NO_KNOB = "none"
#: Seeds per profile when none are given (ours: one under smoke, to keep CI within its time).
DEFAULT_SEEDS = {"smoke": (0,), "cpu": (0, 1, 2), "full": (0,)}
#: The rows of the paper's main ablation (each module alone, and all of them).
CORE_ROWS = ("baseline", "nl", "msg", "wdp", "full")
#: The rows the dataset comparisons train on every dataset.
COMPARED_ROWS = ("baseline", "full")
#: Image rows per stage4 row (the backbone's stride with last stride 1).
STAGE4_STRIDE = 16


@dataclass(frozen=True)
class PlannedRun:
    """One training of the sweep: an ablation row under one seed."""

    row: str
    seed: int
    overrides: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.row}-seed{self.seed}"


def _load_ablations(path: Path) -> dict:
    data = yaml.safe_load(Path(path).read_text())
    rows = data.get("rows") if isinstance(data, dict) else None
    if not isinstance(rows, dict) or not all(isinstance(v, list) for v in rows.values()):
        raise ValueError(f"{path}: expected 'rows:', a mapping of row name -> list of overrides")
    studies = data.get("studies")
    if not isinstance(studies, dict) or not all(isinstance(v, list) for v in studies.values()):
        raise ValueError(f"{path}: expected 'studies:', a mapping of study name -> list of rows")
    for study, names in studies.items():
        unknown = [name for name in names if name not in rows]
        if unknown:
            raise ValueError(f"{path}: study {study!r} names rows {unknown} that 'rows' lacks")
    return data


def load_rows(path: Path = ABLATIONS) -> dict[str, list[str]]:
    """The ablation rows: name -> config overrides on top of the profile's preset."""
    return _load_ablations(path)["rows"]


def load_studies(path: Path = ABLATIONS) -> dict[str, list[str]]:
    """The ablation studies: name -> the rows it compares, in the order the book shows them."""
    return _load_ablations(path)["studies"]


def real_root(dataset: str, data_root: Path | None = None) -> str:
    """``data.root`` of a real dataset: its folder under ``data_root``, or, for None, the folder
    alone (read under ``$REID_DATA_ROOT``)."""
    folder = dataset_folder(dataset)
    return str(Path(data_root) / folder) if data_root else folder


def row_config(
    profile: str, overrides: Sequence[str], dataset: str | None = None, extra: Sequence[str] = ()
) -> Config:
    """The config of one row: the profile's preset, the row's overrides, then the dataset's.

    A real dataset's ``data.root`` defaults to its folder under ``$REID_DATA_ROOT``
    (``book.data.dataset_folder``); ``extra`` overrides come last.
    """
    overrides = list(overrides)
    if dataset is not None:
        overrides.append(f"data.dataset={dataset}")
        if dataset != "synthetic":
            overrides.append(f"data.root={real_root(dataset)}")
        if dataset in MULTI_QUERY_DATASETS:
            overrides.append("eval.multi_query=true")
    return load_config(profile, [*overrides, *extra])


def equivalent_rows(
    rows: dict[str, list[str]], profile: str, dataset: str | None = None, extra: Sequence[str] = ()
) -> dict[str, str]:
    """Rows whose config equals an earlier row's under ``profile``: row -> that earlier row."""
    first: dict[str, str] = {}
    same = {}
    for row, overrides in rows.items():
        key = json.dumps(row_config(profile, overrides, dataset, extra).to_dict(), sort_keys=True)
        if key in first:
            same[row] = first[key]
        else:
            first[key] = row
    return same


def plan_runs(
    rows: dict[str, list[str]], names: Sequence[str] | None, seeds: Sequence[int]
) -> list[PlannedRun]:
    """The runs of ``names`` (all rows when None) times ``seeds``, in row order then seed order.

    Raises:
        ValueError: a row name that ``rows`` does not define (the message lists the defined ones).
    """
    unknown = [name for name in names or () if name not in rows]
    if unknown:
        raise ValueError(f"--rows: unknown row(s) {unknown}; expected some of {list(rows)}")
    chosen = list(names) if names else list(rows)
    return [PlannedRun(row, seed, tuple(rows[row])) for row in chosen for seed in seeds]


def parse_shard(text: str) -> tuple[int, int]:
    """``"i/n"`` -> ``(i, n)`` with ``0 <= i < n``.

    Raises:
        ValueError: anything else (the message shows the expected form).
    """
    index, sep, count = text.partition("/")
    try:
        i, n = int(index), int(count)
    except ValueError:
        i, n = -1, 0
    if not sep or not 0 <= i < n:
        raise ValueError(f"--shard {text!r}: expected i/n with 0 <= i < n, e.g. 0/4")
    return i, n


def shard(runs: Sequence[PlannedRun], index: int, count: int) -> list[PlannedRun]:
    """The runs of shard ``index`` of ``count``: every ``count``-th run from the ``index``-th."""
    return list(runs[index::count])


def run_sweep(
    runs: Sequence[PlannedRun],
    *,
    profile: str,
    results_dir: Path,
    dataset: str | None = None,
    extra: Sequence[str] = (),
) -> list[Path]:
    """Train every run whose results file is missing; return the results files written.

    A run of a row that :func:`equivalent_rows` maps to an earlier row is skipped.
    """
    rows = load_rows()
    same = equivalent_rows(rows, profile, dataset, extra)
    infeasible = infeasible_rows(rows, profile, dataset)
    written = []
    for run in runs:
        if run.row in same:
            print(f"skip {run.name}: row {run.row!r} is row {same[run.row]!r} under {profile}")
            continue
        if run.row in infeasible:
            print(f"skip {run.name}: {infeasible[run.row]}")
            continue
        naming = [f"run.name={run.name}", f"run.seed={run.seed}", f"run.results_dir={results_dir}"]
        cfg = row_config(profile, run.overrides, dataset, [*extra, *naming])
        target = results_path(results_dir, cfg.run.profile, cfg.data.dataset, run.name)
        if target.is_file():
            print(f"skip {run.name}: {target} exists")
            continue
        result = train(cfg)
        if result.results_path is None:
            raise RuntimeError(f"run {run.name} ended ({result.status}) without a results file")
        print(f"{run.name}: {result.results_path}")
        written.append(Path(result.results_path))
    return written


@dataclass(frozen=True)
class TestSet:
    """A test set that trained runs are evaluated on.

    Attributes:
        dataset: the dataset tested on; its results go to ``<results>/<profile>/<dataset>/``.
        prefix: results files are named ``<prefix>-<run>``: ``from-<train dataset>`` (transfer)
            or ``knob-<knob>`` (knob study).
        overrides: the config overrides that select the test images.
    """

    dataset: str
    prefix: str
    overrides: tuple[str, ...]

    def result_name(self, run_name: str) -> str:
        """The results name of run ``run_name`` tested here."""
        return f"{self.prefix}-{run_name}"


def knob_settings(level: float, knobs: Sequence[str] | None = None) -> dict[str, dict[str, float]]:
    """Knob settings of the knob study: every knob off, then each of ``knobs`` (default: all)
    alone at ``level``.

    Raises:
        ValueError: ``level`` outside (0, 1], or an unknown knob (the message lists the knobs).
    """
    if not 0.0 < level <= 1.0:
        raise ValueError(f"--level {level}: expected a knob strength in (0, 1]")
    unknown = [knob for knob in knobs or () if knob not in KNOBS]
    if unknown:
        raise ValueError(f"--knobs: unknown knob(s) {unknown}; expected some of {list(KNOBS)}")
    off = dict.fromkeys(KNOBS, 0.0)
    return {NO_KNOB: off, **{knob: {**off, knob: level} for knob in knobs or KNOBS}}


def evaluate_runs(
    runs: Sequence[PlannedRun],
    test_sets: Sequence[TestSet],
    *,
    profile: str,
    train_dataset: str,
    runs_dir: Path,
    results_dir: Path,
) -> list[Path]:
    """Evaluate each trained run on each test set; return the results files written.

    Args:
        runs: the trained runs (their checkpoints ``<runs_dir>/<profile>/<train_dataset>/<run>``).
        test_sets: where to test them (:func:`transfer_test_sets`, :func:`knob_test_sets`).

    Raises:
        FileNotFoundError: a run that has no checkpoint (the message says how to train it).
    """
    same = equivalent_rows(load_rows(), profile, train_dataset)
    written = []
    for run in runs:
        if run.row in same:
            continue
        checkpoint = Path(runs_dir) / profile / train_dataset / run.name / LAST
        if not checkpoint.is_file():
            raise FileNotFoundError(
                f"{checkpoint}: no trained run {run.name!r}; train it first with "
                f"python -m book.results run --profile {profile} --dataset {train_dataset} "
                f"--rows {run.row} --seeds {run.seed}"
            )
        for test_set in test_sets:
            result_name = test_set.result_name(run.name)
            target = results_path(results_dir, profile, test_set.dataset, result_name)
            if target.is_file():
                print(f"skip {result_name}: {target} exists")
                continue
            path = evaluate_checkpoint(
                checkpoint,
                overrides=[
                    *test_set.overrides,
                    f"run.name={result_name}",
                    f"run.results_dir={results_dir}",
                    "run.progress=false",
                ],
            )
            print(f"{result_name}: {path}")
            written.append(Path(path))
    return written


def knob_test_sets(level: float, knobs: Sequence[str] | None = None) -> list[TestSet]:
    """The knob study's test sets (:func:`knob_settings`), on the run's own preset and seed."""
    return [
        TestSet(
            "synthetic",
            f"knob-{label}",
            (
                "data.dataset=synthetic",
                "data.root=null",
                "data.synthetic_knobs={" + ", ".join(f"{k}: {v}" for k, v in setting.items()) + "}",
            ),
        )
        for label, setting in knob_settings(level, knobs).items()
    ]


def transfer_test_sets(
    train_dataset: str, datasets: Sequence[str], data_root: Path | None = None
) -> list[TestSet]:
    """The standard test split of each of ``datasets`` other than ``train_dataset``.

    A real dataset is read from its folder under ``data_root`` (None: under ``$REID_DATA_ROOT``).
    """
    test_sets = []
    for dataset in (name for name in datasets if name != train_dataset):
        root = "null" if dataset == "synthetic" else real_root(dataset, data_root)
        overrides = (f"data.dataset={dataset}", f"data.root={root}")
        test_sets.append(TestSet(dataset, f"from-{train_dataset}", overrides))
    return test_sets


@dataclass(frozen=True)
class Step:
    """One command of the book's plan: ``run`` (train), ``transfer`` or ``knobs`` (evaluate).

    ``dataset`` is where the runs train; ``tests`` the datasets a ``transfer`` tests on.
    """

    command: str
    dataset: str
    rows: tuple[str, ...] | None
    seeds: tuple[int, ...]
    tests: tuple[str, ...] = ()


def chapter_sweep_dir(profile: str) -> Path:
    """Where a chapter trains the runs it lacks.

    Under ``smoke``: ``_build/sweep/<commit>[-dirty]``, never committed, shared by the chapters
    and by every build of one commit (delete it, or ``make clean``, to retrain after uncommitted
    changes). Otherwise :data:`COMMITTED`, the folder ``make results`` fills.
    """
    if profile != "smoke":
        return COMMITTED
    git = git_state()
    name = (git["commit"] or "unknown")[:10] + ("-dirty" if git["dirty"] else "")
    return BUILD / "sweep" / name


def infeasible_rows(
    rows: dict[str, list[str]], profile: str, dataset: str | None = None
) -> dict[str, str]:
    """Rows that cannot be built under ``profile``: row -> why.

    The part branch cuts the stage4 map (1/16 of the image height, last stride 1) into
    ``num_parts`` stripes, so it needs at least that many rows.
    """
    reasons = {}
    for row, overrides in rows.items():
        cfg = row_config(profile, overrides, dataset)
        stage4 = cfg.data.height // STAGE4_STRIDE
        if cfg.model.wdp is not None and cfg.model.num_parts > stage4:
            need = cfg.model.num_parts * STAGE4_STRIDE
            reasons[row] = (
                f"{cfg.model.num_parts} parts need images at least {need} pixels high; "
                f"{profile} has {cfg.data.height}"
            )
    return reasons


def available_real_sets(data_root: Path | None) -> list[str]:
    """The small real benchmarks whose folder exists under ``data_root`` (none for None)."""
    if data_root is None:
        return []
    return [name for name, folder in SMALL_REAL_SETS.items() if (Path(data_root) / folder).is_dir()]


def book_steps(profile: str, real: Sequence[str] = ()) -> list[Step]:
    """Every step behind the book's tables under ``profile``, given the real sets at hand.

    ``full``: every row on Market-1501, the full model on DukeMTMC-reID and MSMT17. Otherwise:
    every row on the synthetic set; the core rows on VIPeR; baseline and full on the other
    real sets; the knob study of the core rows; transfer from the synthetic set and from VIPeR.
    Only the first seed trains on the other sets and enters the knob and transfer studies.
    Under ``smoke`` the real sets are only tested on: an epoch on one takes minutes, not seconds.
    """
    seeds = DEFAULT_SEEDS[profile]
    if profile == "full":
        return [
            Step("run", "market1501", None, seeds),
            Step("run", "dukemtmc_reid", ("full",), seeds),
            Step("run", "msmt17", ("full",), seeds),
        ]
    first = seeds[:1]
    steps = [Step("run", "synthetic", None, seeds)]
    trained = list(real) if profile != "smoke" else []
    if "viper" in trained:
        steps.append(Step("run", "viper", CORE_ROWS, seeds))
    steps += [Step("run", name, COMPARED_ROWS, first) for name in trained if name != "viper"]
    steps.append(Step("knobs", "synthetic", CORE_ROWS, first))
    if real:
        steps.append(Step("transfer", "synthetic", COMPARED_ROWS, first, tuple(real)))
    if "viper" in trained:
        others = ("synthetic", *(name for name in real if name != "viper"))
        steps.append(Step("transfer", "viper", COMPARED_ROWS, first, others))
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
) -> list[Path]:
    """Carry out one :class:`Step`; return the results files written.

    ``extra`` overrides go to every training run (``run``); ``data_root`` replaces
    ``$REID_DATA_ROOT`` for the real sets.
    """
    runs = plan_runs(load_rows(), step.rows, step.seeds)
    if step.command == "run":
        roots = []
        if data_root is not None and step.dataset != "synthetic":
            roots = [f"data.root={real_root(step.dataset, data_root)}"]
        overrides = [f"run.output_dir={runs_dir}", *roots, *extra]
        return run_sweep(
            runs, profile=profile, results_dir=results_dir, dataset=step.dataset, extra=overrides
        )
    if step.command == "transfer":
        test_sets = transfer_test_sets(step.dataset, step.tests, data_root)
    elif step.command == "knobs":
        test_sets = knob_test_sets(level)
    else:
        raise ValueError(f"step {step.command!r}: expected 'run', 'transfer' or 'knobs'")
    return evaluate_runs(
        runs,
        test_sets,
        profile=profile,
        train_dataset=step.dataset,
        runs_dir=runs_dir,
        results_dir=results_dir,
    )


def merge_trees(sources: Sequence[Path], into: Path) -> list[Path]:
    """Copy the ``*.json`` files of each source tree into ``into`` at the same relative path.

    A file already there with the same bytes is left alone.

    Raises:
        FileExistsError: two different files for one path (names both).
        FileNotFoundError: a source that is not a folder.
    """
    copied = []
    for source in map(Path, sources):
        if not source.is_dir():
            raise FileNotFoundError(f"merge source {source} is not a folder of results files")
        for path in sorted(source.rglob("*.json")):
            target = Path(into) / path.relative_to(source)
            if target.exists():
                if not filecmp.cmp(path, target, shallow=False):
                    raise FileExistsError(f"{path} and {target} are different results files")
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
            copied.append(target)
    return copied


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m book.results`` argument parser."""
    parser = argparse.ArgumentParser(prog="python -m book.results", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="train the ablation rows that have no results file")
    run.add_argument("--profile", required=True, help="smoke, cpu or full (an engine preset)")
    run.add_argument("--dataset", help="dataset name (default: the preset's)")
    run.add_argument("--rows", nargs="+", metavar="ROW", help="rows of book/ablations.yaml")
    run.add_argument("--seeds", nargs="+", type=int, help="default: the profile's DEFAULT_SEEDS")
    run.add_argument("--shard", default="0/1", metavar="i/n", help="take shard i of n (0-based)")
    run.add_argument("--results-dir", type=Path, default=Path("results"))
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
    ):
        sub = commands.add_parser(command, help=text)
        sub.add_argument("--profile", required=True, help="smoke, cpu or full")
        sub.add_argument("--rows", nargs="+", metavar="ROW", help="rows of book/ablations.yaml")
        sub.add_argument("--seeds", nargs="+", type=int, default=[0])
        sub.add_argument("--runs-dir", type=Path, default=Path("runs"), help="checkpoints")
        sub.add_argument("--results-dir", type=Path, default=Path("results"))
        if command == "transfer":
            sub.add_argument("--train", required=True, help="the dataset the runs trained on")
            sub.add_argument("--test", nargs="+", required=True, help="datasets to test on")
        else:
            sub.add_argument("--level", type=float, default=1.0, help="knob strength, (0, 1]")
            sub.add_argument("--knobs", nargs="+", metavar="KNOB", help=f"default: {KNOBS}")
    every = commands.add_parser("all", help="every step behind the book's tables (book_steps)")
    every.add_argument("--profile", required=True, help="smoke, cpu or full")
    every.add_argument("--runs-dir", type=Path, default=Path("runs"), help="checkpoints")
    every.add_argument("--results-dir", type=Path, default=Path("results"))
    merge = commands.add_parser("merge", help="combine the results trees of several runners")
    merge.add_argument("sources", nargs="+", type=Path)
    merge.add_argument("--into", type=Path, default=Path("results"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m book.results``."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "merge":
            copied = merge_trees(args.sources, args.into)
            print(f"merged {len(copied)} new results file(s) into {args.into}")
            return 0
        if args.command in ("transfer", "knobs"):
            runs = plan_runs(load_rows(), args.rows, args.seeds)
            transfer = args.command == "transfer"
            evaluate_runs(
                runs,
                transfer_test_sets(args.train, args.test)
                if transfer
                else knob_test_sets(args.level, args.knobs),
                profile=args.profile,
                train_dataset=args.train if transfer else "synthetic",
                runs_dir=args.runs_dir,
                results_dir=args.results_dir,
            )
            return 0
        if args.command == "all":
            env = os.environ.get(DATA_ROOT_ENV)
            real = available_real_sets(Path(env) if env else None)
            for step in book_steps(args.profile, real):
                print(f"== {step}")
                run_step(
                    step,
                    profile=args.profile,
                    results_dir=args.results_dir,
                    runs_dir=args.runs_dir,
                )
            return 0
        seeds = args.seeds or DEFAULT_SEEDS.get(args.profile, (0,))
        runs = shard(plan_runs(load_rows(), args.rows, seeds), *parse_shard(args.shard))
        run_sweep(
            runs,
            profile=args.profile,
            results_dir=args.results_dir,
            dataset=args.dataset,
            extra=args.overrides,
        )
    except (ValueError, FileExistsError, FileNotFoundError) as err:
        print(f"python -m book.results: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
