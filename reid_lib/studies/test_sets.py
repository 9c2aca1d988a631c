"""Evaluate trained runs on other test sets: cross-dataset transfer and the synthetic knob study.

Transfer tests the runs of one dataset on the standard test split of others. The knob study tests
the runs trained on the synthetic set on synthetic test sets where one nuisance knob is turned up
and the others are off (plus the set with every knob off). Both read the checkpoints
``<runs_dir>/<profile>/<dataset>/<run>/last.pt`` that the sweep left, and each evaluation writes a
results file whose ``run`` fields say what was trained and what was tested
(``train_set``, ``knob``); its file name, ``<prefix>-<run>``, only keeps the files apart.

The joint-training diagnosis tests runs again on their own test sets (:func:`with_variant`):
after AdaBN, which adds the variant ``single_query_adabn`` to the results file the run already
has, or on their training split ranked among itself, which adds ``train_split``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from reid_lib.data.synthetic_people import KNOBS
from reid_lib.engine.evaluation import VARIANT_SETTINGS
from reid_lib.engine.experiment import evaluate_checkpoint
from reid_lib.engine.results import NO_KNOB, results_path
from reid_lib.json_files import read_json
from reid_lib.studies.rows import equivalent_rows, load_rows, real_root
from reid_lib.studies.sweep import PlannedRun

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TestSet:
    """A test set that trained runs are evaluated on.

    Attributes:
        dataset: the dataset tested on; its results go to ``<results>/<profile>/<dataset>/``.
        prefix: results files are named ``<prefix>-<run>``, to keep them apart from the run's own;
            empty for the run's own test set (its own file).
        overrides: the config overrides that select the test images.
        variant: the metrics variant the test adds to the file (``single_query`` starts it).
    """

    dataset: str
    prefix: str
    overrides: tuple[str, ...]
    variant: str = "single_query"

    def result_name(self, run_name: str) -> str:
        """The file name of run ``run_name`` tested here."""
        return f"{self.prefix}-{run_name}" if self.prefix else run_name


def _set_overrides(dataset: str, data_root: Path | None) -> tuple[str, str]:
    """The overrides that test on ``dataset``'s standard split: the synthetic set generated,
    a real set read from its folder under ``data_root`` (None: under ``$REID_DATA_ROOT``)."""
    root = "null" if dataset == "synthetic" else real_root(dataset, data_root)
    return (f"data.dataset={dataset}", f"data.root={root}")


def own_test_set(dataset: str, data_root: Path | None = None) -> TestSet:
    """The test split a run on the small real set ``dataset`` was tested on: its own file."""
    return TestSet(dataset, "", _set_overrides(dataset, data_root))


def with_variant(test_sets: Sequence[TestSet], variant: str) -> list[TestSet]:
    """``test_sets`` tested again with the setting that adds ``variant`` (one of
    :data:`~reid_lib.engine.evaluation.VARIANT_SETTINGS`, e.g. ``single_query_adabn``) to the
    same files.

    Raises:
        ValueError: another variant (the message lists them).
    """
    if variant not in VARIANT_SETTINGS:
        raise ValueError(f"variant {variant!r}: expected one of {list(VARIANT_SETTINGS)}")
    return [
        replace(t, overrides=(*t.overrides, *VARIANT_SETTINGS[variant]), variant=variant)
        for t in test_sets
    ]


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
    return [
        TestSet(dataset, f"from-{train_dataset}", _set_overrides(dataset, data_root))
        for dataset in datasets
        if dataset != train_dataset
    ]


def joint_test_sets(datasets: Sequence[str], data_root: Path | None = None) -> list[TestSet]:
    """Each of ``datasets`` under its own protocol, for the runs trained jointly on them: a run
    is tested on the split it trained on (its ``data.split``), so none sees its test ids."""
    return [TestSet(dataset, "joint", _set_overrides(dataset, data_root)) for dataset in datasets]


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
        for test_set in test_sets:
            result_name = test_set.result_name(run.name)
            target = results_path(results_dir, profile, test_set.dataset, result_name)
            kept = read_json(target, "results file")["metrics"] if target.is_file() else {}
            if test_set.variant in kept:
                log.info(f"skip {result_name}: {target} has {test_set.variant}")
                continue
            # The variants the file holds are computed again, so that none is dropped and
            # check_replaceable sees each come out the same.
            settings = [each for variant in kept for each in VARIANT_SETTINGS.get(variant, ())]
            path = evaluate_checkpoint(
                run.trained_checkpoint(runs_dir, profile, train_dataset),
                overrides=[
                    *test_set.overrides,
                    *settings,
                    f"run.name={result_name}",
                    "run.progress=false",
                ],
                results_dir=results_dir,
                runs_dir=runs_dir,
            )
            log.info(f"{result_name}: {path}")
            written.append(Path(path))
    return written
