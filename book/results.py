"""Regenerate the results files behind the book's tables: ``python -m book.results``.

::

    python -m book.results run --profile cpu [--dataset viper] [--rows baseline full ...]
                               [--seeds 0 1 2] [--shard 0/4] [--results-dir results] [--set k=v ...]
    python -m book.results merge RUNNER_DIR ... --into results

``run`` trains one engine run per ablation row (``book/ablations.yaml``) and seed, named
``<row>-seed<k>``, each writing ``<results-dir>/<profile>/<dataset>/<row>-seed<k>.json``; a run
whose results file exists is skipped, so an interrupted sweep resumes. ``--shard i/n`` keeps every
n-th run from the i-th (0-based), so n runners (a CI matrix) take disjoint runs; ``merge`` then
copies their result trees into one, refusing two different files at the same path.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from reid_lib.engine.config import load_config
from reid_lib.engine.results import results_path

ABLATIONS = Path(__file__).resolve().parent / "ablations.yaml"


@dataclass(frozen=True)
class PlannedRun:
    """One training of the sweep: an ablation row under one seed."""

    row: str
    seed: int
    overrides: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.row}-seed{self.seed}"


def load_rows(path: Path = ABLATIONS) -> dict[str, list[str]]:
    """The ablation rows: name -> config overrides on top of the profile's preset."""
    rows = yaml.safe_load(Path(path).read_text())
    if not isinstance(rows, dict) or not all(isinstance(v, list) for v in rows.values()):
        raise ValueError(f"{path}: expected a mapping of row name -> list of key=value overrides")
    return rows


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
    """Train every run whose results file is missing; return the results files written."""
    from reid_lib.engine.experiment import train

    written = []
    for run in runs:
        overrides = [*run.overrides, *extra, f"run.name={run.name}", f"run.seed={run.seed}"]
        overrides.append(f"run.results_dir={results_dir}")
        if dataset is not None:
            overrides.append(f"data.dataset={dataset}")
        cfg = load_config(profile, overrides)
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
    run.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
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
        runs = shard(plan_runs(load_rows(), args.rows, args.seeds), *parse_shard(args.shard))
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
