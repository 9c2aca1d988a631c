"""Train the study rows: one engine run per row and seed, skipping runs already done.

A run of row ``r`` and seed ``k`` is named ``<r>-seed<k>``, or ``<r>-split<s>-seed<k>`` on
protocol split ``s`` of a real set (a file name only: its results file records ``run.row``,
``run.seed`` and ``dataset.split`` as fields), and writes
``<results_dir>/<profile>/<dataset>/<name>.json``. A run whose results file exists is
skipped and a run with a checkpoint but no results file resumes from it, so an interrupted sweep
resumes; so is a row whose config equals an earlier row's under
the profile (e.g. ``parts-4`` when the preset has 4 parts) and a row the profile cannot build.
``shard(i, n)`` keeps every n-th run from the i-th, so n runners (a CI matrix) take disjoint runs.
"""

from __future__ import annotations

import filecmp
import json
import logging
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reid_lib.data.factory import TRAIN_ONLY
from reid_lib.engine.checkpoint import LAST, check_trained_under, has_trained
from reid_lib.engine.config import Config, apply_overrides, load_config
from reid_lib.engine.experiment import evaluate_checkpoint, train
from reid_lib.engine.figure_data import FIGURES, read_figure_data
from reid_lib.engine.results import RESULTS_GLOB, read_results, results_path
from reid_lib.engine.run_key import RunKey
from reid_lib.studies.rows import equivalent, infeasible, load_rows, row_config, row_configs
from reid_lib.studies.sweep_command import sweep_command

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlannedRun:
    """One training of the sweep: a study row under one seed, on one protocol split.

    ``split`` is None on a dataset without protocol splits (the synthetic set).
    """

    row: str
    seed: int
    overrides: tuple[str, ...]
    split: int | None = None

    @property
    def name(self) -> str:
        """The run's folder and file name (:meth:`~reid_lib.engine.run_key.RunKey.run_name`)."""
        return RunKey.run_name(self.row, self.seed, self.split)

    def identity(self) -> list[str]:
        """The overrides that give a run its identity: name, row, seed and split."""
        split = [] if self.split is None else [f"data.split={self.split}"]
        return [f"run.name={self.name}", f"run.row={self.row}", f"run.seed={self.seed}", *split]

    def trained_checkpoint(self, runs_dir: str | Path, profile: str, dataset: str) -> Path:
        """The ``last.pt`` of this run under ``runs_dir`` (``<profile>/<dataset>/<name>``).

        Raises:
            FileNotFoundError: the run has no checkpoint (the message gives the command that
                trains it).
        """
        checkpoint = Path(runs_dir) / profile / dataset / self.name / LAST
        if not checkpoint.is_file():
            command = sweep_command(
                "joint" if dataset == "joint" else "run",
                profile=profile,
                dataset=None if dataset == "joint" else dataset,
                rows=[self.row],
                seeds=[self.seed],
                splits=[] if self.split is None else [self.split],
            )
            raise FileNotFoundError(
                f"{checkpoint}: no trained run {self.name!r}; train it first with {command} (a "
                "run whose results file exists is skipped: then add --results-dir <another "
                "folder>, where its file should come out the same)"
            )
        return checkpoint


def plan_runs(
    rows: dict[str, list[str]],
    names: Sequence[str] | None,
    seeds: Sequence[int],
    splits: Sequence[int | None] = (None,),
) -> list[PlannedRun]:
    """The runs of ``names`` (all rows when None) times ``seeds`` times ``splits``.

    Ordered by split, then seed, then row, so that a sweep stopped part-way leaves whole sets of
    rows on the splits and seeds it reached: the comparisons pair rows by seed and split.

    Raises:
        ValueError: a row name that ``rows`` does not define (the message lists the defined ones).
    """
    unknown = [name for name in names or () if name not in rows]
    if unknown:
        raise ValueError(f"--rows: unknown row(s) {unknown}; expected some of {list(rows)}")
    chosen = list(names) if names else list(rows)
    return [
        PlannedRun(row, seed, tuple(rows[row]), split)
        for split in splits
        for seed in seeds
        for row in chosen
    ]


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


def skipped_rows(
    profile: str, dataset: str | None = None, extra: Sequence[str] = ()
) -> dict[str, str]:
    """The rows the sweep does not train under ``profile``: row -> why.

    A row whose config equals an earlier row's is that row's run; a row the profile cannot build
    is skipped with the config's reason. ``extra`` overrides apply to every row.

    Raises:
        ConfigError: an ``extra`` override with an unknown key or a value of the wrong type,
            which no row could be built with (it is not a reason to skip them all).
    """
    apply_overrides(load_config(profile), list(extra), check=False)
    configs = row_configs(load_rows(), profile, dataset, extra)
    same = {
        row: f"row {row!r} is row {other!r} under {profile}"
        for row, other in equivalent(configs).items()
    }
    return {**infeasible(configs), **same}


def run_sweep(
    runs: Sequence[PlannedRun],
    *,
    profile: str,
    results_dir: Path,
    dataset: str | None = None,
    extra: Sequence[str] = (),
    deadline: float | None = None,
) -> list[Path]:
    """Bring every run to its results file (:func:`complete_run`); return the files written.

    No run starts after ``deadline`` (a ``time.monotonic()`` value; None: no limit), so that a
    sweep given a time budget stops between runs, never in one. Runs of the rows of
    :func:`skipped_rows` are skipped with a message.
    """
    skipped = skipped_rows(profile, dataset, extra)
    written = []
    for run in runs:
        if deadline is not None and time.monotonic() >= deadline:
            log.info(f"stop before {run.name}: the time budget is spent")
            break
        if run.row in skipped:
            log.info(f"skip {run.name}: {skipped[run.row]}")
            continue
        naming = [*run.identity(), f"run.results_dir={results_dir}"]
        path, done = complete_run(row_config(profile, run.overrides, dataset, [*extra, *naming]))
        log.info(f"{run.name}: {done}")
        written += [path] if path is not None else []
    return written


def complete_run(cfg: Config) -> tuple[Path | None, str]:
    """Bring the run ``cfg`` to its results file under ``cfg.run.results_dir``, doing only what
    is left; return the file written (None when none was) and a line saying what was done.

    A run whose results file exists is left alone; a run whose ``last.pt`` has trained every
    epoch is evaluated, not trained again (its results file went elsewhere, or was deleted); any
    other run trains, resuming from its ``last.pt``. On a training-only dataset (``joint``) a run
    is done when its checkpoint has trained every epoch; it writes no results file here
    (``reid_lib.studies.test_sets.evaluate_runs`` tests it).

    Raises:
        RuntimeError: the training was interrupted, or ended without a results file.
        CheckpointError: a trained checkpoint whose config is not ``cfg``'s.
    """
    target = results_path(cfg.run.results_dir, cfg.run.profile, cfg.data.dataset, cfg.run.name)
    last = cfg.run_dir() / LAST
    if target.is_file():
        return None, f"skipped: {target} exists"
    trained = has_trained(last, cfg.schedule.epochs)
    if trained and cfg.data.dataset in TRAIN_ONLY:
        return None, f"skipped: {last} is trained"
    if trained:
        check_trained_under(last, cfg.to_dict(), remedy="delete its run folder to train it again")
        path = evaluate_checkpoint(
            last, results_dir=cfg.run.results_dir, runs_dir=cfg.run.output_dir
        )
        return path, f"{last} is trained; evaluated into {path}"
    result = train(cfg, resume=last if last.is_file() else None)
    if result.status != "finished":
        raise RuntimeError(f"run {cfg.run.name} was interrupted; run the same command to resume")
    if cfg.data.dataset in TRAIN_ONLY:
        return None, f"trained {last}"
    if result.results_path is None:
        raise RuntimeError(f"run {cfg.run.name} ended without a results file")
    return Path(result.results_path), f"trained; results in {result.results_path}"


def _merged_files(source: Path) -> list[Path]:
    """The files of ``source`` that :func:`merge_trees` copies, each read and checked: results
    files, figure-data files (the JSON and its NPZ) and pretraining records.

    Raises:
        ValueError: a file that is not what its place says, or a JSON file at no place merge
            knows (named; a source one folder too high puts every file there).
        FileNotFoundError: a figure-data JSON without its NPZ, or the other way round.
    """
    files = []
    for path in sorted(source.glob(RESULTS_GLOB)):
        read_results(path)
        files.append(path)
    for path in sorted(source.glob(f"*/{FIGURES}/*/*.json")):
        read_figure_data(path)
        files += [path, path.with_suffix(".npz")]
    for path in sorted(source.glob(f"*/{FIGURES}/*/*.npz")):
        if not path.with_suffix(".json").is_file():
            raise FileNotFoundError(f"figure data {path.with_suffix('.json')} is missing")
    for path in sorted(source.glob("pretrained/*.json")):
        try:
            record = json.loads(path.read_text())
        except ValueError as err:
            raise ValueError(f"{path} is not a pretraining record: {err}") from None
        if not isinstance(record, dict) or "sha256" not in record:
            raise ValueError(f"{path} is not a pretraining record: it has no sha256")
        files.append(path)
    stray = sorted(set(source.rglob("*.json")) - set(files))
    if stray:
        raise ValueError(
            f"{stray[0]}{f' and {len(stray) - 1} more' if len(stray) > 1 else ''}: not where "
            f"merge takes files from (under {source}: <profile>/<dataset>/<run>.json, "
            f"<profile>/{FIGURES}/<dataset>/<name>.json and pretrained/<name>.json); is the "
            "source the results folder itself?"
        )
    return files


def merge_trees(sources: Sequence[Path], into: Path) -> list[Path]:
    """Copy the results files of each shard's tree into ``into`` at the same relative path, with
    the figure data and pretraining records beside them.

    All or nothing: every file is read and validated, and every path checked, before the first
    copy. A file already there with the same bytes is left alone.

    Raises:
        FileNotFoundError: a source that is not a folder; half a figure-data file.
        ValueError: a file that is not a valid results file or pretraining record (named).
        FileExistsError: two different files for one path (both named).
    """
    planned: dict[Path, Path] = {}
    for source in map(Path, sources):
        if not source.is_dir():
            raise FileNotFoundError(f"merge source {source} is not a folder of results files")
        for path in _merged_files(source):
            target = Path(into) / path.relative_to(source)
            other = planned.get(target, target if target.exists() else None)
            if other is not None and not filecmp.cmp(path, other, shallow=False):
                raise FileExistsError(f"{path} and {other} are different files for one path")
            if other is None:
                planned[target] = path
    for target, path in planned.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    return list(planned)
